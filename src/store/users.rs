//! The people who log in to the console: name, role, password hash (argon2id, hashed by the
//! caller: the store never sees a password), disabled or not.

use super::query;
use super::Store;
use crate::vocab::role::Role;
use anyhow::Result;

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct UserRow {
    pub name: String,
    pub role: Role,
    #[serde(skip)]
    pub password_hash: String,
    pub created_at: i64,
    pub changed_at: i64,
    pub disabled_at: Option<i64>,
}

const COLUMNS: &str = "name, role, password_hash, created_at, changed_at, disabled_at";

impl Store {
    /// Adds a user; `false` when the name is taken.
    pub async fn add_user(&self, name: &str, role: Role, hash: &str, now: i64) -> Result<bool> {
        let mut tx = self.begin().await?;
        let taken: Option<(String,)> =
            query::optional(&mut *tx, "SELECT name FROM users WHERE name = $1", (name,)).await?;
        if taken.is_some() {
            return Ok(false);
        }
        query::execute(
            &mut *tx,
            "INSERT INTO users (name, role, password_hash, created_at, changed_at) \
             VALUES ($1, $2, $3, $4, $4)",
            (name, role, hash, now),
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn user(&self, name: &str) -> Result<Option<UserRow>> {
        Ok(query::optional(
            self.pool(),
            &format!("SELECT {COLUMNS} FROM users WHERE name = $1"),
            (name,),
        )
        .await?)
    }

    /// Every user, by name.
    pub async fn users(&self) -> Result<Vec<UserRow>> {
        Ok(query::all(
            self.pool(),
            &format!("SELECT {COLUMNS} FROM users ORDER BY name"),
            (),
        )
        .await?)
    }

    /// How many users can log in (not disabled).
    pub async fn active_user_count(&self) -> Result<i64> {
        let n: i64 = query::scalar(
            self.pool(),
            "SELECT COUNT(*) FROM users WHERE disabled_at IS NULL",
            (),
        )
        .await?;
        Ok(n)
    }

    /// Sets a user's password hash (and enables a disabled user again); `false` when there
    /// is no such user.
    pub async fn set_password(&self, name: &str, hash: &str, now: i64) -> Result<bool> {
        self.update_user(
            "UPDATE users SET password_hash = $2, changed_at = $3, disabled_at = NULL \
             WHERE name = $1",
            (name, hash, now),
        )
        .await
    }

    /// Sets a user's role; `false` when there is no such user. The console reads the user
    /// on every request, so the new role holds from their next request on. Works on a row
    /// whose stored role is unknown, which is how such a row is repaired.
    pub async fn set_role(&self, name: &str, role: Role) -> Result<bool> {
        self.update_user("UPDATE users SET role = $2 WHERE name = $1", (name, role))
            .await
    }

    /// Disables a user; `false` when there is no such user. Their sessions are refused from
    /// the next request on (the console reads the user on every request).
    pub async fn disable_user(&self, name: &str, now: i64) -> Result<bool> {
        self.update_user(
            "UPDATE users SET disabled_at = COALESCE(disabled_at, $2) WHERE name = $1",
            (name, now),
        )
        .await
    }

    /// Runs one `UPDATE users … WHERE name = $1` in its own transaction (under the write
    /// lock); `false` when it changed no row, that is when there is no such user.
    async fn update_user<'q>(&self, sql: &'q str, params: impl query::Params<'q>) -> Result<bool> {
        Ok(self.write(sql, params).await? > 0)
    }
}
