variable "name" {
  description = "Prefix of every resource (e.g. bankflow-prod)."
  type        = string
}

variable "region" {
  description = "AWS region."
  type        = string
  default     = "eu-west-1"
}

variable "vpc_id" {
  description = "VPC the cluster, database and brokers live in."
  type        = string
}

variable "private_subnet_ids" {
  description = "Private subnets (at least two availability zones)."
  type        = list(string)
}

variable "kubernetes_version" {
  description = "EKS control plane version."
  type        = string
  default     = "1.30"
}

variable "node_instance_types" {
  description = "Instance types of the managed node group."
  type        = list(string)
  default     = ["m6i.large"]
}

variable "db_instance_class" {
  description = "RDS PostgreSQL instance class."
  type        = string
  default     = "db.r6g.large"
}

variable "kafka_instance_type" {
  description = "MSK broker instance type."
  type        = string
  default     = "kafka.m5.large"
}
