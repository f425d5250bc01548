//! Customer context: `customers` and `kyc_documents` (metadata; bytes live in a `DocumentStore`).

use async_trait::async_trait;
use bankflow_core::customer::{CustomerRecord, CustomerSearch, DocumentRecord};
use bankflow_core::ids::{CustomerId, DocumentId, UserId};
use bankflow_core::ports::CustomerRepo;
use bankflow_core::BankResult;

use crate::error::db_err;
use crate::rows::{docs, enum_str, from_doc, to_doc};
use crate::uow::PgUow;
use bankflow_core::store_support::found;

#[async_trait]
impl CustomerRepo for PgUow {
    async fn insert_customer(&mut self, c: &CustomerRecord) -> BankResult<()> {
        self.before_write().await?;
        self.exec_guarded(sqlx::query(
            "INSERT INTO customers (id, user_id, first_name, last_name, email, phone, kyc_status, doc) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(c.id.0)
        .bind(c.user_id.0)
        .bind(&c.first_name)
        .bind(&c.last_name)
        .bind(c.email.as_deref())
        .bind(c.phone.as_deref())
        .bind(enum_str(&c.kyc_status)?)
        .bind(to_doc(c)?)
        )
        .await?;
        Ok(())
    }

    async fn customer(&mut self, id: CustomerId) -> BankResult<Option<CustomerRecord>> {
        let row = sqlx::query("SELECT doc FROM customers WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(db_err)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn customer_by_user(&mut self, user: UserId) -> BankResult<Option<CustomerRecord>> {
        let row = sqlx::query("SELECT doc FROM customers WHERE user_id = $1")
            .bind(user.0)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(db_err)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn update_customer(&mut self, c: &CustomerRecord) -> BankResult<()> {
        self.before_write().await?;
        let done = self.exec_guarded(sqlx::query(
            "UPDATE customers SET user_id = $2, first_name = $3, last_name = $4, email = $5, phone = $6, kyc_status = $7, \
             doc = $8 WHERE id = $1",
        )
        .bind(c.id.0)
        .bind(c.user_id.0)
        .bind(&c.first_name)
        .bind(&c.last_name)
        .bind(c.email.as_deref())
        .bind(c.phone.as_deref())
        .bind(enum_str(&c.kyc_status)?)
        .bind(to_doc(c)?)
        )
        .await?;
        found(done.rows_affected(), "customer")
    }

    async fn delete_customer(&mut self, id: CustomerId) -> BankResult<()> {
        self.before_write().await?;
        let done = self.exec_guarded(sqlx::query(
            "WITH docs AS (DELETE FROM kyc_documents WHERE customer_id = $1) DELETE FROM customers WHERE id = $1",
        )
        .bind(id.0)
        )
        .await?;
        // Both deletes are one statement: if the customer was missing, its (absent) documents
        // were untouched too.
        found(done.rows_affected(), "customer")
    }

    async fn search_customers(&mut self, s: &CustomerSearch) -> BankResult<Vec<CustomerRecord>> {
        // ASCII-only case folding, as the memory store does (`lower` would fold non-ASCII too).
        let rows = sqlx::query(
            "SELECT doc FROM customers \
             WHERE ($1::uuid IS NULL OR id > $1) \
             AND ($2::text IS NULL OR strpos(translate(first_name || ' ' || last_name, \
                  'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz'), \
                  translate($2, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')) > 0) \
             AND ($3::text IS NULL OR email = $3) AND ($4::text IS NULL OR phone = $4) \
             AND ($5::text IS NULL OR kyc_status = $5) \
             ORDER BY id LIMIT $6",
        )
        .bind(s.after.map(|a| a.0))
        .bind(s.name.as_deref())
        .bind(s.email.as_deref())
        .bind(s.phone.as_deref())
        .bind(s.kyc_status.as_ref().map(enum_str).transpose()?)
        .bind(i64::from(s.limit))
        .fetch_all(&mut *self.tx)
        .await
        .map_err(db_err)?;
        docs(&rows)
    }

    async fn insert_document(&mut self, d: &DocumentRecord) -> BankResult<()> {
        self.before_write().await?;
        self.exec_guarded(sqlx::query(
            "INSERT INTO kyc_documents (id, customer_id, uploaded_at, doc) VALUES ($1, $2, $3, $4)",
        )
        .bind(d.id.0)
        .bind(d.customer_id.0)
        .bind(d.uploaded_at)
        .bind(to_doc(d)?)
        )
        .await?;
        Ok(())
    }

    async fn document(&mut self, id: DocumentId) -> BankResult<Option<DocumentRecord>> {
        let row = sqlx::query("SELECT doc FROM kyc_documents WHERE id = $1")
            .bind(id.0)
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(db_err)?;
        row.as_ref().map(from_doc).transpose()
    }

    async fn documents_of_customer(
        &mut self,
        customer: CustomerId,
        limit: u32,
    ) -> BankResult<Vec<DocumentRecord>> {
        let rows = sqlx::query("SELECT doc FROM kyc_documents WHERE customer_id = $1 ORDER BY uploaded_at, id LIMIT $2")
            .bind(customer.0)
            .bind(i64::from(limit))
            .fetch_all(&mut *self.tx)
            .await
            .map_err(db_err)?;
        docs(&rows)
    }

    async fn update_document(&mut self, d: &DocumentRecord) -> BankResult<()> {
        self.before_write().await?;
        let done = self.exec_guarded(sqlx::query(
            "UPDATE kyc_documents SET customer_id = $2, uploaded_at = $3, doc = $4 WHERE id = $1",
        )
        .bind(d.id.0)
        .bind(d.customer_id.0)
        .bind(d.uploaded_at)
        .bind(to_doc(d)?)
        )
        .await?;
        found(done.rows_affected(), "document")
    }
}
