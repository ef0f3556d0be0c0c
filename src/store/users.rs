//! The people who log in to the console: name, role, password hash (argon2id, hashed by the
//! caller: the store never sees a password), disabled or not.

use super::Store;
use anyhow::Result;

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct UserRow {
    pub name: String,
    /// `duty`, `leader` or `operator`.
    pub role: String,
    #[serde(skip)]
    pub password_hash: String,
    pub created_at: i64,
    pub changed_at: i64,
    pub disabled_at: Option<i64>,
}

const COLUMNS: &str = "name, role, password_hash, created_at, changed_at, disabled_at";

impl Store {
    /// Adds a user; `false` when the name is taken.
    pub async fn add_user(&self, name: &str, role: &str, hash: &str, now: i64) -> Result<bool> {
        let mut tx = self.begin().await?;
        let taken: Option<(String,)> = sqlx::query_as("SELECT name FROM users WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *tx)
            .await?;
        if taken.is_some() {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO users (name, role, password_hash, created_at, changed_at) \
             VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(name)
        .bind(role)
        .bind(hash)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn user(&self, name: &str) -> Result<Option<UserRow>> {
        Ok(
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM users WHERE name = $1"))
                .bind(name)
                .fetch_optional(self.pool())
                .await?,
        )
    }

    /// Every user, by name.
    pub async fn users(&self) -> Result<Vec<UserRow>> {
        Ok(
            sqlx::query_as(&format!("SELECT {COLUMNS} FROM users ORDER BY name"))
                .fetch_all(self.pool())
                .await?,
        )
    }

    /// How many users can log in (not disabled).
    pub async fn active_user_count(&self) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users WHERE disabled_at IS NULL")
            .fetch_one(self.pool())
            .await?;
        Ok(n)
    }

    /// Sets a user's password hash (and enables a disabled user again); `false` when there
    /// is no such user.
    pub async fn set_password(&self, name: &str, hash: &str, now: i64) -> Result<bool> {
        let mut tx = self.begin().await?;
        let n = sqlx::query(
            "UPDATE users SET password_hash = $2, changed_at = $3, disabled_at = NULL \
             WHERE name = $1",
        )
        .bind(name)
        .bind(hash)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(n > 0)
    }

    /// Disables a user; `false` when there is no such user. Their sessions are refused from
    /// the next request on (the console reads the user on every request).
    pub async fn disable_user(&self, name: &str, now: i64) -> Result<bool> {
        let mut tx = self.begin().await?;
        let n =
            sqlx::query("UPDATE users SET disabled_at = COALESCE(disabled_at, $2) WHERE name = $1")
                .bind(name)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        tx.commit().await?;
        Ok(n > 0)
    }
}
