//! Console sessions: an id (chosen by tower-sessions), its data as JSON and when it
//! expires. Kept in the database so that any daemon on it serves any logged-in user.

use super::Store;
use anyhow::Result;

impl Store {
    /// Inserts or replaces a session.
    pub async fn save_session(&self, id: &str, data: &str, expires_at: i64) -> Result<()> {
        // Not through `begin`: a session is not incident state and need not wait for the
        // write lock's other holders beyond SQLite's own.
        sqlx::query(
            "INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
        )
        .bind(id)
        .bind(data)
        .bind(expires_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Inserts a session unless the id is taken; `false` when it was.
    pub async fn create_session(&self, id: &str, data: &str, expires_at: i64) -> Result<bool> {
        let n = sqlx::query(
            "INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(data)
        .bind(expires_at)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok(n > 0)
    }

    /// The data of a session that has not expired at `now`.
    pub async fn load_session(&self, id: &str, now: i64) -> Result<Option<String>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT data FROM sessions WHERE id = $1 AND expires_at > $2")
                .bind(id)
                .bind(now)
                .fetch_optional(self.pool())
                .await?;
        Ok(row.map(|r| r.0))
    }

    pub async fn delete_session(&self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Removes sessions that expired before `now`; returns how many.
    pub async fn delete_expired_sessions(&self, now: i64) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(self.pool())
            .await?
            .rows_affected())
    }
}

impl Store {
    /// The console's shared secret: `candidate` when none was kept yet, else the one the
    /// first daemon kept.
    pub async fn console_secret(&self, candidate: &str) -> Result<String> {
        sqlx::query(
            "INSERT INTO console_secret (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
        )
        .bind(candidate)
        .execute(self.pool())
        .await?;
        let (s,): (String,) = sqlx::query_as("SELECT secret FROM console_secret WHERE id = 1")
            .fetch_one(self.pool())
            .await?;
        Ok(s)
    }
}
