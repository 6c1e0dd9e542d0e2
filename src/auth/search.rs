//! The words an account can be found by. Support finds customers by what the customer tells
//! them: an address, a name, part of either. A `LIKE '%…%'` over every account reads the
//! whole table (a third of a second at 100,000 customers, `bench/large_data.sh`), so each
//! account's name and address are cut into words kept in `user_search_terms`, and a search
//! matches words by prefix through that table's index.
//!
//! Words are runs of letters and digits, folded: lower case, compatibility-decomposed, accents
//! dropped ("José" is found by "jose"). They are stored as bytes, so a prefix is the byte
//! range `[prefix, prefix with its last byte plus one)` on every database, free of each
//! database's collation rules (UTF-8 never holds the byte 0xFF, so the increment cannot
//! overflow).

use std::collections::BTreeSet;

use sea_orm::sea_query::{Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionSession,
};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::entity::user;
use crate::ids::UserId;

/// Stored words are cut to this many bytes; a longer typed word is checked in full against
/// the account afterwards ([`Needle::matches`]).
pub const MAX_TERM_BYTES: usize = 64;
/// Typed words shorter than this are left out of a search: a single letter would match a
/// large share of all accounts and narrows nothing.
pub const MIN_WORD_CHARS: usize = 2;
/// At most this many typed words take part.
pub const MAX_WORDS: usize = 6;

pub(crate) mod term {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "user_search_terms")]
    pub struct Model {
        #[sea_orm(
            primary_key,
            auto_increment = false,
            column_type = "VarBinary(StringLen::N(64))"
        )]
        pub term: Vec<u8>,
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: Uuid,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The folded words of a piece of text, in order, repeats included.
fn words(text: &str) -> Vec<String> {
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
}

/// `word` cut to at most [`MAX_TERM_BYTES`] on a character boundary.
fn stored_form(word: &str) -> &str {
    if word.len() <= MAX_TERM_BYTES {
        return word;
    }
    let mut end = MAX_TERM_BYTES;
    while !word.is_char_boundary(end) {
        end -= 1;
    }
    &word[..end]
}

/// The full words of an account's address and name.
fn full_words(email: &str, name: &str) -> BTreeSet<String> {
    words(email).into_iter().chain(words(name)).collect()
}

/// The terms stored for an account.
pub fn terms(email: &str, name: &str) -> BTreeSet<String> {
    full_words(email, name)
        .iter()
        .map(|w| stored_form(w).to_owned())
        .collect()
}

/// Writes the account's terms anew. Called in the transaction that sets its address or name,
/// so the index never disagrees with the account.
pub async fn reindex<C: crate::db::Conn>(
    conn: &C,
    user: UserId,
    email: &str,
    name: &str,
) -> Result<(), DbErr> {
    term::Entity::delete_many()
        .filter(term::Column::UserId.eq(user.0))
        .exec(conn)
        .await?;
    let rows: Vec<_> = terms(email, name)
        .into_iter()
        .map(|t| term::ActiveModel {
            term: Set(t.into_bytes()),
            user_id: Set(user.0),
        })
        .collect();
    if !rows.is_empty() {
        term::Entity::insert_many(rows)
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// Rebuilds the terms of every account, a batch of accounts at a time, for the migration that
/// introduced them and for accounts written around the application (a bulk import, a restore
/// from an older dump): `sunbridge admin reindex-search`. Returns the number of accounts.
pub async fn rebuild<C: crate::db::Conn>(conn: &C) -> Result<u64, DbErr> {
    const BATCH: u64 = 1000;
    let mut after: Option<uuid::Uuid> = None;
    let mut done = 0;
    loop {
        // Only the three columns it needs: migration 16 runs this, and a column added to
        // accounts later must not break migrating an older database.
        let mut q = user::Entity::find()
            .select_only()
            .columns([user::Column::Id, user::Column::Email, user::Column::Name])
            .order_by_asc(user::Column::Id)
            .limit(BATCH);
        if let Some(after) = after {
            q = q.filter(user::Column::Id.gt(after));
        }
        let batch: Vec<(uuid::Uuid, String, String)> = q.into_tuple().all(conn).await?;
        let Some(last) = batch.last() else { break };
        after = Some(last.0);
        let ids: Vec<_> = batch.iter().map(|u| u.0).collect();
        let tx = conn.begin().await?;
        term::Entity::delete_many()
            .filter(term::Column::UserId.is_in(ids))
            .exec(&tx)
            .await?;
        let rows: Vec<_> = batch
            .iter()
            .flat_map(|(id, email, name)| {
                terms(email, name).into_iter().map(|t| term::ActiveModel {
                    term: Set(t.into_bytes()),
                    user_id: Set(*id),
                })
            })
            .collect();
        // Bounded statements: MySQL and PostgreSQL cap the placeholders of one statement.
        for chunk in rows.chunks(2000) {
            term::Entity::insert_many(chunk.to_vec())
                .exec_without_returning(&tx)
                .await?;
        }
        tx.commit().await?;
        done += batch.len() as u64;
    }
    Ok(done)
}

/// What someone typed, as words to match by prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Needle {
    words: Vec<String>,
}

impl Needle {
    /// The usable words of `typed`: folded like the terms, at least [`MIN_WORD_CHARS`] long,
    /// longest first, at most [`MAX_WORDS`]. `None` when no word is usable (the search then
    /// finds nothing: "%%%" or "j e" name nobody).
    pub fn parse(typed: &str) -> Option<Needle> {
        let mut words: Vec<String> = words(typed)
            .into_iter()
            .filter(|w| w.chars().count() >= MIN_WORD_CHARS)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        // A word that is a prefix of another typed word adds nothing.
        let all = words.clone();
        words.retain(|w| !all.iter().any(|o| o != w && o.starts_with(w.as_str())));
        words.sort_by_key(|w| std::cmp::Reverse(w.len()));
        words.truncate(MAX_WORDS);
        (!words.is_empty()).then_some(Needle { words })
    }

    /// One sub-select per word: the accounts with a term starting with it.
    pub fn subqueries(&self) -> impl Iterator<Item = SelectStatement> + '_ {
        self.words.iter().map(|w| {
            let (lo, hi) = byte_range(stored_form(w));
            Query::select()
                .column(term::Column::UserId)
                .from(term::Entity)
                .and_where(Expr::col(term::Column::Term).gte(lo))
                .and_where(Expr::col(term::Column::Term).lt(hi))
                .to_owned()
        })
    }

    /// Whether an account's full words match: every typed word begins one of them. The index
    /// holds words cut to [`MAX_TERM_BYTES`], so a longer typed word is confirmed here.
    pub fn matches(&self, email: &str, name: &str) -> bool {
        let full = full_words(email, name);
        self.words
            .iter()
            .all(|w| full.iter().any(|f| f.starts_with(w.as_str())))
    }
}

/// The byte range holding exactly the byte strings that start with `prefix`.
fn byte_range(prefix: &str) -> (Vec<u8>, Vec<u8>) {
    let lo = prefix.as_bytes().to_vec();
    let mut hi = lo.clone();
    if let Some(last) = hi.last_mut() {
        // UTF-8 has no 0xFF byte, so this never wraps.
        *last += 1;
    }
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_names_are_cut_into_folded_words() {
        let t = terms("Olive.Smith+solar@Example.COM", "José  O'Neil-Park");
        let expected: BTreeSet<String> = [
            "olive", "smith", "solar", "example", "com", "jose", "o", "neil", "park",
        ]
        .into_iter()
        .map(str::to_owned)
        .collect();
        assert_eq!(t, expected);
        // Compatibility forms fold too: the ligature "ﬁ" is "fi", full-width digits are digits.
        let folded = terms("x@y.z", "\u{FB01}ona \u{FF11}\u{FF12}");
        assert!(folded.contains("fiona") && folded.contains("12"), "{folded:?}");
        // Scripts without case keep their letters.
        assert!(terms("x@y.z", "王小明").contains("王小明"));
    }

    #[test]
    fn long_words_are_stored_cut_on_a_character_boundary() {
        let long = "é".repeat(40); // folds to "e" 40 times: 40 bytes, kept whole
        assert!(terms("a@b.c", &long).contains(&"e".repeat(40)));
        let cjk = "王".repeat(30); // 90 bytes of 3-byte characters
        let stored = terms("a@b.c", &cjk)
            .into_iter()
            .find(|t| t.starts_with('王'))
            .unwrap();
        assert_eq!(stored, "王".repeat(21));
        assert!(stored.len() <= MAX_TERM_BYTES);
    }

    #[test]
    fn typed_words_are_folded_deduplicated_and_short_ones_dropped() {
        let n = Needle::parse("  JANE.doe@ ").unwrap();
        assert_eq!(n.words, vec!["jane", "doe"]);
        assert_eq!(Needle::parse("%%%"), None);
        assert_eq!(Needle::parse("___"), None);
        assert_eq!(Needle::parse("j%e"), None, "single letters narrow nothing");
        let n = Needle::parse("jan jane janet").unwrap();
        assert_eq!(
            n.words,
            vec!["janet"],
            "prefixes of another typed word add nothing"
        );
        let many = Needle::parse("aa bb cc dd ee ff gg hh").unwrap();
        assert_eq!(many.words.len(), MAX_WORDS);
    }

    #[test]
    fn a_needle_matches_by_word_prefix_only() {
        let n = Needle::parse("smi jose").unwrap();
        assert!(n.matches("olive.smith@example.com", "José Park"));
        assert!(
            !n.matches("olive.smith@example.com", "Ana Park"),
            "every word must match"
        );
        let inner = Needle::parse("live").unwrap();
        assert!(!inner.matches("olive@example.com", "Olive"), "not inside a word");
    }

    #[test]
    fn a_long_typed_word_is_confirmed_in_full() {
        let word = "a".repeat(80);
        let n = Needle::parse(&word).unwrap();
        assert!(n.matches(&format!("{word}@example.com"), "A"));
        // Shares the stored 64 bytes but differs after them.
        let other = format!("{}b", "a".repeat(79));
        assert!(!n.matches(&format!("{other}@example.com"), "A"));
    }

    #[test]
    fn the_byte_range_holds_exactly_the_extensions_of_the_prefix() {
        let (lo, hi) = byte_range("jo");
        for (s, inside) in [
            ("jo", true),
            ("jose", true),
            ("joz", true),
            ("jp", false),
            ("j", false),
            ("jn", false),
        ] {
            let b = s.as_bytes();
            assert_eq!(b >= lo.as_slice() && b < hi.as_slice(), inside, "{s}");
        }
        let (lo, hi) = byte_range("zé");
        assert!("zéphyr".as_bytes() >= lo.as_slice() && "zéphyr".as_bytes() < hi.as_slice());
        assert!(!("zf".as_bytes() >= lo.as_slice() && "zf".as_bytes() < hi.as_slice()));
    }
}
