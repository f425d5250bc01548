//! Customer context: `customers` and `kyc_documents`. No other module touches them.

use async_trait::async_trait;

use bankflow_core::customer::{CustomerRecord, CustomerSearch, DocumentRecord};
use bankflow_core::ids::{CustomerId, DocumentId, UserId};
use bankflow_core::ports::CustomerRepo;
use bankflow_core::BankResult;

use crate::codec::{self, id, opt_ts, record, records, to_doc, ts};
use crate::uow::SqliteUow;
use bankflow_core::store_support::found;

/// Escapes LIKE wildcards so a searched name matches literally.
fn like_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('%');
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[async_trait]
impl CustomerRepo for SqliteUow {
    async fn insert_customer(&mut self, c: &CustomerRecord) -> BankResult<()> {
        sqlx::query(
            "INSERT INTO customers (id, user_id, first_name, last_name, email, phone, kyc_status, created_at, \
             updated_at, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id(c.id.0))
        .bind(id(c.user_id.0))
        .bind(c.first_name.clone())
        .bind(c.last_name.clone())
        .bind(c.email.clone())
        .bind(c.phone.clone())
        .bind(c.kyc_status.as_str())
        .bind(ts(&c.created_at))
        .bind(ts(&c.updated_at))
        .bind(to_doc(c)?)
        .execute(self.w().await?)
        .await
        .map_err(codec::err(Some("customer")))?;
        Ok(())
    }

    async fn customer(&mut self, customer: CustomerId) -> BankResult<Option<CustomerRecord>> {
        let row = sqlx::query("SELECT record FROM customers WHERE id = ?")
            .bind(id(customer.0))
            .fetch_optional(self.unbuffered()?)
            .await
            .map_err(codec::err(None))?;
        row.as_ref().map(record).transpose()
    }

    async fn customer_by_user(&mut self, user: UserId) -> BankResult<Option<CustomerRecord>> {
        let row = sqlx::query("SELECT record FROM customers WHERE user_id = ?")
            .bind(id(user.0))
            .fetch_optional(self.unbuffered()?)
            .await
            .map_err(codec::err(None))?;
        row.as_ref().map(record).transpose()
    }

    async fn update_customer(&mut self, c: &CustomerRecord) -> BankResult<()> {
        let done = sqlx::query(
            "UPDATE customers SET user_id = ?, first_name = ?, last_name = ?, email = ?, phone = ?, kyc_status = ?, \
             created_at = ?, updated_at = ?, record = ? WHERE id = ?",
        )
        .bind(id(c.user_id.0))
        .bind(c.first_name.clone())
        .bind(c.last_name.clone())
        .bind(c.email.clone())
        .bind(c.phone.clone())
        .bind(c.kyc_status.as_str())
        .bind(ts(&c.created_at))
        .bind(ts(&c.updated_at))
        .bind(to_doc(c)?)
        .bind(id(c.id.0))
        .execute(self.w().await?)
        .await
        .map_err(codec::err(Some("customer")))?;
        found(done.rows_affected(), "customer")?;
        Ok(())
    }

    async fn delete_customer(&mut self, customer: CustomerId) -> BankResult<()> {
        let c = self.w().await?;
        sqlx::query("DELETE FROM kyc_documents WHERE customer_id = ?")
            .bind(id(customer.0))
            .execute(&mut *c)
            .await
            .map_err(codec::err(None))?;
        let done = sqlx::query("DELETE FROM customers WHERE id = ?")
            .bind(id(customer.0))
            .execute(&mut *c)
            .await
            .map_err(codec::err(None))?;
        found(done.rows_affected(), "customer")?;
        Ok(())
    }

    async fn search_customers(&mut self, s: &CustomerSearch) -> BankResult<Vec<CustomerRecord>> {
        let mut qb =
            sqlx::QueryBuilder::<sqlx::Sqlite>::new("SELECT record FROM customers WHERE 1 = 1");
        if let Some(name) = &s.name {
            // SQLite's LIKE is ASCII-case-insensitive: exactly the port's name match.
            qb.push(" AND (first_name || ' ' || last_name) LIKE ")
                .push_bind(like_literal(name))
                .push(" ESCAPE '\\'");
        }
        if let Some(e) = &s.email {
            qb.push(" AND email = ").push_bind(e.clone());
        }
        if let Some(p) = &s.phone {
            qb.push(" AND phone = ").push_bind(p.clone());
        }
        if let Some(k) = s.kyc_status {
            qb.push(" AND kyc_status = ").push_bind(k.as_str());
        }
        if let Some(a) = s.after {
            qb.push(" AND id > ").push_bind(id(a.0));
        }
        qb.push(" ORDER BY id LIMIT ").push_bind(i64::from(s.limit));
        let rows = qb
            .build()
            .fetch_all(self.unbuffered()?)
            .await
            .map_err(codec::err(None))?;
        records(&rows)
    }

    async fn insert_document(&mut self, d: &DocumentRecord) -> BankResult<()> {
        sqlx::query(
            "INSERT INTO kyc_documents (id, customer_id, document_type, status, uploaded_at, verified_at, record) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(id(d.id.0))
        .bind(id(d.customer_id.0))
        .bind(d.document_type.as_str())
        .bind(d.status.as_str())
        .bind(ts(&d.uploaded_at))
        .bind(opt_ts(&d.verified_at))
        .bind(to_doc(d)?)
        .execute(self.w().await?)
        .await
        .map_err(codec::err(Some("document")))?;
        Ok(())
    }

    async fn document(&mut self, doc: DocumentId) -> BankResult<Option<DocumentRecord>> {
        let row = sqlx::query("SELECT record FROM kyc_documents WHERE id = ?")
            .bind(id(doc.0))
            .fetch_optional(self.unbuffered()?)
            .await
            .map_err(codec::err(None))?;
        row.as_ref().map(record).transpose()
    }

    async fn documents_of_customer(
        &mut self,
        customer: CustomerId,
        limit: u32,
    ) -> BankResult<Vec<DocumentRecord>> {
        let rows =
            sqlx::query("SELECT record FROM kyc_documents WHERE customer_id = ? ORDER BY uploaded_at, id LIMIT ?")
                .bind(id(customer.0))
                .bind(i64::from(limit))
                .fetch_all(self.unbuffered()?)
                .await
                .map_err(codec::err(None))?;
        records(&rows)
    }

    async fn update_document(&mut self, d: &DocumentRecord) -> BankResult<()> {
        let done = sqlx::query(
            "UPDATE kyc_documents SET customer_id = ?, document_type = ?, status = ?, uploaded_at = ?, verified_at = ?, \
             record = ? WHERE id = ?",
        )
        .bind(id(d.customer_id.0))
        .bind(d.document_type.as_str())
        .bind(d.status.as_str())
        .bind(ts(&d.uploaded_at))
        .bind(opt_ts(&d.verified_at))
        .bind(to_doc(d)?)
        .bind(id(d.id.0))
        .execute(self.w().await?)
        .await
        .map_err(codec::err(None))?;
        found(done.rows_affected(), "document")?;
        Ok(())
    }
}
