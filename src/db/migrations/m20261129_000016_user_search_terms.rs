//! The words accounts are found by (`auth::search`): support's customer search reads an
//! index instead of every account. Existing accounts are indexed here.
//!
//! Frozen history: the folding of words as it was defined then is carried here rather than
//! imported, so a later change to the application's search (or to the accounts table) cannot
//! break migrating an older database. An account indexed here and one indexed by the
//! application are found alike (`tests/api/migrations.rs`); `sunbridge admin reindex-search`
//! rewrites every account's terms with the application's current rules.

use std::collections::BTreeSet;

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, FromQueryResult, TransactionTrait};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Stored words are cut to this many bytes (on a character boundary).
const MAX_TERM_BYTES: usize = 64;

/// The terms of an account: the words of its address and name, folded (lower case,
/// compatibility-decomposed, accents dropped), cut to `MAX_TERM_BYTES`.
fn terms(email: &str, name: &str) -> BTreeSet<String> {
    let words = |text: &str| -> Vec<String> {
        let folded: String = text
            .nfkd()
            .filter(|c| !is_combining_mark(*c))
            .flat_map(char::to_lowercase)
            .collect();
        folded
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect()
    };
    words(email)
        .into_iter()
        .chain(words(name))
        .map(|word| {
            let mut end = word.len().min(MAX_TERM_BYTES);
            while !word.is_char_boundary(end) {
                end -= 1;
            }
            word[..end].to_owned()
        })
        .collect()
}

#[derive(FromQueryResult)]
struct Account {
    id: uuid::Uuid,
    email: String,
    name: String,
}

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261129_000016_user_search_terms"
    }
}

#[derive(DeriveIden)]
enum UserSearchTerms {
    Table,
    Term,
    UserId,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    Name,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(UserSearchTerms::Table)
                    // Bytes, not text: a prefix is then a byte range on every database,
                    // whatever its collation.
                    .col(
                        ColumnDef::new(UserSearchTerms::Term)
                            .var_binary(MAX_TERM_BYTES as u32)
                            .not_null(),
                    )
                    .col(ColumnDef::new(UserSearchTerms::UserId).uuid().not_null())
                    .primary_key(
                        Index::create()
                            .col(UserSearchTerms::Term)
                            .col(UserSearchTerms::UserId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_user_search_terms_user")
                            .from(UserSearchTerms::Table, UserSearchTerms::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_user_search_terms_user")
                    .table(UserSearchTerms::Table)
                    .col(UserSearchTerms::UserId)
                    .to_owned(),
            )
            .await?;
        index_accounts(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(UserSearchTerms::Table).to_owned())
            .await
    }
}

/// Indexes the accounts there are, a batch at a time (bounded statements: MySQL and PostgreSQL
/// cap the placeholders of one).
async fn index_accounts(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    const BATCH: u64 = 1000;
    let db = manager.get_connection();
    let backend = manager.get_database_backend();
    let mut after: Option<uuid::Uuid> = None;
    loop {
        let mut select = Query::select();
        select
            .columns([Users::Id, Users::Email, Users::Name])
            .from(Users::Table)
            .order_by(Users::Id, Order::Asc)
            .limit(BATCH);
        if let Some(after) = after {
            select.and_where(Expr::col(Users::Id).gt(after));
        }
        let batch = Account::find_by_statement(backend.build(&select)).all(db).await?;
        let Some(last) = batch.last() else {
            return Ok(());
        };
        after = Some(last.id);
        let rows: Vec<(Vec<u8>, uuid::Uuid)> = batch
            .iter()
            .flat_map(|a| {
                terms(&a.email, &a.name)
                    .into_iter()
                    .map(|t| (t.into_bytes(), a.id))
            })
            .collect();
        let tx = db.begin().await?;
        for chunk in rows.chunks(2000) {
            let mut insert = Query::insert();
            insert
                .into_table(UserSearchTerms::Table)
                .columns([UserSearchTerms::Term, UserSearchTerms::UserId]);
            for (term, user) in chunk {
                insert
                    .values([term.clone().into(), (*user).into()])
                    .map_err(|e| DbErr::Custom(format!("search terms: {e}")))?;
            }
            tx.execute(&insert).await?;
        }
        tx.commit().await?;
    }
}
