//! One statement: its text, its parameters in order (`$1`, `$2`, …) as a tuple, and how its
//! answer is read. Every query of the store is one call here instead of a chain of
//! `.bind(…)` lines ending in the same fetch, so a function's body is its SQL.
//!
//! The errors are sqlx's own, so a caller can still ask a database error for its code.

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::error::BoxDynError;
use sqlx::{Any, Arguments, Encode, Executor, FromRow, Type};

/// A statement's parameters, bound in order: a tuple of anything sqlx binds (`()` for none).
pub(super) trait Params<'q> {
    fn arguments(self) -> Result<AnyArguments<'q>, BoxDynError>;
}

macro_rules! params {
    ($($name:ident),*) => {
        impl<'q, $($name),*> Params<'q> for ($($name,)*)
        where
            $($name: 'q + Encode<'q, Any> + Type<Any>,)*
        {
            #[allow(non_snake_case, unused_mut)]
            fn arguments(self) -> Result<AnyArguments<'q>, BoxDynError> {
                let mut arguments = AnyArguments::default();
                let ($($name,)*) = self;
                $(arguments.add($name)?;)*
                Ok(arguments)
            }
        }
    };
}

params!();
params!(A);
params!(A, B);
params!(A, B, C);
params!(A, B, C, D);
params!(A, B, C, D, E);
params!(A, B, C, D, E, F);
params!(A, B, C, D, E, F, G);
params!(A, B, C, D, E, F, G, H);
params!(A, B, C, D, E, F, G, H, I);
params!(A, B, C, D, E, F, G, H, I, J);
params!(A, B, C, D, E, F, G, H, I, J, K);
params!(A, B, C, D, E, F, G, H, I, J, K, L);
params!(A, B, C, D, E, F, G, H, I, J, K, L, M);
params!(A, B, C, D, E, F, G, H, I, J, K, L, M, N);
params!(A, B, C, D, E, F, G, H, I, J, K, L, M, N, O);
params!(A, B, C, D, E, F, G, H, I, J, K, L, M, N, O, P);

/// The parameters as sqlx takes them; one that does not encode fails the statement, as a
/// failed `.bind` would.
fn arguments<'q>(params: impl Params<'q>) -> sqlx::Result<AnyArguments<'q>> {
    params.arguments().map_err(sqlx::Error::Encode)
}

/// Runs a statement that returns no rows; how many rows it changed.
pub(super) async fn execute<'q, 'c>(
    ex: impl Executor<'c, Database = Any>,
    sql: &'q str,
    params: impl Params<'q>,
) -> sqlx::Result<u64> {
    let done = sqlx::query_with(sql, arguments(params)?)
        .execute(ex)
        .await?;
    Ok(done.rows_affected())
}

/// Every row the statement answers, each read as a `T`.
pub(super) async fn all<'q, 'c, T>(
    ex: impl Executor<'c, Database = Any>,
    sql: &'q str,
    params: impl Params<'q>,
) -> sqlx::Result<Vec<T>>
where
    T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
{
    sqlx::query_as_with(sql, arguments(params)?)
        .fetch_all(ex)
        .await
}

/// The one row the statement answers (none is an error).
pub(super) async fn one<'q, 'c, T>(
    ex: impl Executor<'c, Database = Any>,
    sql: &'q str,
    params: impl Params<'q>,
) -> sqlx::Result<T>
where
    T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
{
    sqlx::query_as_with(sql, arguments(params)?)
        .fetch_one(ex)
        .await
}

/// The row the statement answers, if any.
pub(super) async fn optional<'q, 'c, T>(
    ex: impl Executor<'c, Database = Any>,
    sql: &'q str,
    params: impl Params<'q>,
) -> sqlx::Result<Option<T>>
where
    T: for<'r> FromRow<'r, AnyRow> + Send + Unpin,
{
    sqlx::query_as_with(sql, arguments(params)?)
        .fetch_optional(ex)
        .await
}
