output "cluster_name" {
  value = aws_eks_cluster.this.name
}

output "database_endpoint" {
  description = "host:port for DATABASE_URL (postgres://bankflow@HOST/bankflow?sslmode=verify-full&sslrootcert=rds-ca.pem)."
  value       = aws_db_instance.db.endpoint
}

output "kafka_bootstrap_brokers_tls" {
  value = aws_msk_cluster.events.bootstrap_brokers_tls
}

output "documents_bucket" {
  value = aws_s3_bucket.documents.bucket
}
