#!/usr/bin/env bash
# Backs up a Sunbridge database with the tool docs/operations.md names for it, restores the
# backup into an empty database, and proves the copy whole: the same row counts, the audit
# chain verified against the original's last hash, and every encrypted value readable (a key
# rotation on the copy decrypts each one). Also shows that a restore without the master key
# cannot read personal data.
#
#   tools/backup-restore-check.sh BINARY [sqlite|mariadb|postgres]…
#
# MariaDB at 127.0.0.1:3306 (root, no password) and PostgreSQL at 127.0.0.1:5432 (postgres,
# trust) as on the CI machine; override with MYSQL_HOST / PG_HOST.
set -euo pipefail

BIN=$(realpath "$1"); shift
KINDS=("${@:-sqlite mariadb}")
MYSQL_HOST=${MYSQL_HOST:-127.0.0.1}
PG_HOST=${PG_HOST:-127.0.0.1}
WORK=$(mktemp -d)
trap 'cleanup' EXIT
TAG=$(date +%s)_$$

cleanup() {
  mysql -h"$MYSQL_HOST" -uroot -e "DROP DATABASE IF EXISTS sb_backup_src_$TAG; DROP DATABASE IF EXISTS sb_backup_dst_$TAG; DROP DATABASE IF EXISTS sb_backup_nokey_$TAG" 2>/dev/null || true
  for db in src dst nokey; do dropdb -h "$PG_HOST" -U postgres --if-exists "sb_backup_${db}_$TAG" 2>/dev/null || true; done
  rm -rf "$WORK"
}

# sb DATA_DIR DATABASE_URL ARGS…: the CLI on one install. Development settings: the master key
# and secret key are the files the first run generated in DATA_DIR.
sb() {
  local dir=$1 url=$2; shift 2
  SUNBRIDGE_DATA_DIR=$dir SUNBRIDGE_DATABASE_URL=$url SUNBRIDGE_ENV=development "$BIN" "$@"
}

counts() {
  local kind=$1 target=$2 q=""
  for t in users sites quotes orders jobs job_events audit_events data_keys user_search_terms stored_files; do
    q="$q SELECT '$t', COUNT(*) FROM $t UNION ALL"
  done
  q="${q% UNION ALL};"
  case $kind in
    sqlite) sqlite3 -separator ' ' "$target" "$q" ;;
    mariadb) mysql -h"$MYSQL_HOST" -uroot -N -B "$target" -e "$q" | tr '\t' ' ' ;;
    postgres) psql -h "$PG_HOST" -U postgres -At -F ' ' -d "$target" -c "$q" ;;
  esac
}

check() {
  local kind=$1
  local src="$WORK/$kind/src" dst="$WORK/$kind/dst" nokey="$WORK/$kind/nokey"
  mkdir -p "$src" "$dst" "$nokey"
  local src_url dst_url nokey_url src_db dst_db
  case $kind in
    sqlite)
      src_url="sqlite://$src/sunbridge.db?mode=rwc"; dst_url="sqlite://$dst/sunbridge.db?mode=rwc"
      nokey_url="sqlite://$nokey/sunbridge.db?mode=rwc"
      src_db="$src/sunbridge.db"; dst_db="$dst/sunbridge.db" ;;
    mariadb)
      mysql -h"$MYSQL_HOST" -uroot -e "CREATE DATABASE sb_backup_src_$TAG; CREATE DATABASE sb_backup_dst_$TAG; CREATE DATABASE sb_backup_nokey_$TAG"
      src_url="mysql://root@$MYSQL_HOST:3306/sb_backup_src_$TAG"; dst_url="mysql://root@$MYSQL_HOST:3306/sb_backup_dst_$TAG"
      nokey_url="mysql://root@$MYSQL_HOST:3306/sb_backup_nokey_$TAG"
      src_db="sb_backup_src_$TAG"; dst_db="sb_backup_dst_$TAG" ;;
    postgres)
      for db in src dst nokey; do createdb -h "$PG_HOST" -U postgres "sb_backup_${db}_$TAG"; done
      src_url="postgres://postgres@$PG_HOST:5432/sb_backup_src_$TAG"; dst_url="postgres://postgres@$PG_HOST:5432/sb_backup_dst_$TAG"
      nokey_url="postgres://postgres@$PG_HOST:5432/sb_backup_nokey_$TAG"
      src_db="sb_backup_src_$TAG"; dst_db="sb_backup_dst_$TAG" ;;
    *) echo "unknown database kind $kind" >&2; return 2 ;;
  esac

  echo "[$kind] seeding the demo data"
  sb "$src" "$src_url" seed-demo >/dev/null 2>&1
  local before head
  before=$(counts "$kind" "$src_db")
  head=$(sb "$src" "$src_url" audit-log verify --json | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["last_seq"], r["last_hash"])')

  echo "[$kind] backing up online (no server has to stop)"
  case $kind in
    sqlite) sqlite3 "$src_db" ".backup '$WORK/$kind/backup.db'" ;;
    mariadb) mysqldump -h"$MYSQL_HOST" -uroot --single-transaction --hex-blob --routines --triggers "$src_db" >"$WORK/$kind/backup.sql" ;;
    postgres) pg_dump -h "$PG_HOST" -U postgres -Fc -f "$WORK/$kind/backup.dump" "$src_db" ;;
  esac
  # The keys are backed up apart from the data (in production: the Secret holding master_key).
  cp "$src/master.key" "$src/dev-secret.key" "$dst/"
  [ -d "$src/files" ] && cp -r "$src/files" "$dst/"

  echo "[$kind] restoring into an empty database"
  case $kind in
    sqlite) cp "$WORK/$kind/backup.db" "$dst_db"; cp "$WORK/$kind/backup.db" "$nokey/sunbridge.db" ;;
    mariadb)
      mysql -h"$MYSQL_HOST" -uroot "$dst_db" <"$WORK/$kind/backup.sql"
      mysql -h"$MYSQL_HOST" -uroot "sb_backup_nokey_$TAG" <"$WORK/$kind/backup.sql" ;;
    postgres)
      pg_restore -h "$PG_HOST" -U postgres --no-owner -d "$dst_db" "$WORK/$kind/backup.dump"
      pg_restore -h "$PG_HOST" -U postgres --no-owner -d "sb_backup_nokey_$TAG" "$WORK/$kind/backup.dump" ;;
  esac

  local after
  after=$(counts "$kind" "$dst_db")
  if [ "$before" != "$after" ]; then
    echo "[$kind] FAIL: row counts differ"; diff <(echo "$before") <(echo "$after"); return 1
  fi
  set -- $head
  sb "$dst" "$dst_url" audit-log verify --expect-seq "$1" --expect-hash "$2" >/dev/null ||
    { echo "[$kind] FAIL: the restored audit chain does not verify"; return 1; }
  # Rotation opens every sealed value and file under the old key and seals it anew: it fails
  # on the first value that cannot be read.
  sb "$dst" "$dst_url" keys rotate --settle-secs 0 >/dev/null ||
    { echo "[$kind] FAIL: encrypted data in the copy cannot be read"; return 1; }
  # Without the master key the same copy must not be readable.
  if sb "$nokey" "$nokey_url" keys rotate --settle-secs 0 >/dev/null 2>&1; then
    echo "[$kind] FAIL: a copy restored without the master key could be read"; return 1
  fi
  echo "[$kind] ok: $(echo "$after" | tr '\n' ',' | sed 's/,$//'); chain to position $1 verified; every sealed value readable with the key and not without it"
}

for kind in ${KINDS[@]}; do
  check "$kind"
done
