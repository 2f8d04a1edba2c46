package dev.watershed.io.jdbc;

import java.io.Serializable;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Slowly changing dimension type 2, with dbt-snapshot semantics, applied in the database by set
 * statements in one transaction.
 *
 * <p>The history table holds the model's columns and {@code row_hash} (an MD5 of the tracked
 * columns), {@code valid_from}, {@code valid_to} (null while current), {@code is_current} and
 * {@code is_deleted}. Given a full snapshot of the model:
 *
 * <ul>
 *   <li>{@code check}: a key whose tracked columns changed gets its current version closed at the
 *       run's time and a new version from then; new keys get a first version;
 *   <li>{@code timestamp}: the same, when the snapshot's {@code updated_at} column is newer than
 *       the current version's, with that time as the boundary;
 *   <li>deletes (keys missing from the snapshot): {@code ignore}; {@code invalidate} closes the
 *       current version; {@code new_record} closes it and adds a version marked deleted.
 * </ul>
 *
 * <p>Re-running the same snapshot changes nothing.
 */
public final class Scd2 implements Serializable {
  /** Strategies for telling a change. */
  public enum Strategy {
    CHECK,
    TIMESTAMP,
    /** Every change of a change stream is a version, placed by its {@code _version}. */
    CHANGES
  }

  /** What happens to keys missing from the snapshot. */
  public enum Deletes {
    IGNORE,
    INVALIDATE,
    NEW_RECORD
  }

  private final List<String> tracked;
  private final Strategy strategy;
  private final String updatedAt;
  private final Deletes deletes;
  private final Instant now;

  private Scd2(
      List<String> tracked, Strategy strategy, String updatedAt, Deletes deletes, Instant now) {
    this.tracked = List.copyOf(tracked);
    this.strategy = strategy;
    this.updatedAt = updatedAt;
    this.deletes = deletes;
    this.now = now;
  }

  /** History of changes to {@code tracked} columns, found by comparing their hash. */
  public static Scd2 check(List<String> tracked) {
    return new Scd2(tracked, Strategy.CHECK, null, Deletes.IGNORE, Instant.EPOCH);
  }

  /** History driven by an {@code updatedAt} column: a newer value is a new version. */
  public static Scd2 timestamp(List<String> tracked, String updatedAt) {
    return new Scd2(tracked, Strategy.TIMESTAMP, updatedAt, Deletes.IGNORE, Instant.EPOCH);
  }

  /**
   * History from a change stream (a model that tracks changes): every change is a version, valid
   * from when the source made it ({@code _changed_at}) until the key's next change in source order
   * ({@code _version}). Changes may arrive late, twice or in a later run: a late change is inserted
   * in its place and its neighbours' {@code valid_from}/{@code valid_to} follow; a change already
   * recorded (same key and {@code _version}) is not recorded again. Deletes are versions marked
   * {@code is_deleted} ({@code invalidate}: never current; {@code new_record}: current while last);
   * under {@code ignore} they are not recorded.
   */
  public static Scd2 changes(List<String> tracked) {
    return new Scd2(tracked, Strategy.CHANGES, null, Deletes.INVALIDATE, Instant.EPOCH);
  }

  /** True for history built from a change stream's changes. */
  public boolean fromChanges() {
    return strategy == Strategy.CHANGES;
  }

  public Scd2 withDeletes(Deletes policy) {
    return new Scd2(tracked, strategy, updatedAt, policy, now);
  }

  /** The run's time: the boundary of versions under {@code check} and for deletes. */
  public Scd2 withClock(Instant instant) {
    return new Scd2(tracked, strategy, updatedAt, deletes, instant);
  }

  public List<String> tracked() {
    return tracked;
  }

  /** The extra columns of a history table, after the model's columns. */
  static String extraColumns(Dialect dialect) {
    String ts =
        dialect == Dialect.POSTGRES
            ? "TIMESTAMPTZ"
            : dialect == Dialect.MARIADB ? "DATETIME(6)" : "TIMESTAMP";
    return "row_hash VARCHAR(32), valid_from "
        + ts
        + ", valid_to "
        + ts
        + ", is_current BOOLEAN, is_deleted BOOLEAN";
  }

  private String nowLiteral(Dialect dialect) {
    if (dialect == Dialect.POSTGRES) {
      return "CAST('" + now + "' AS TIMESTAMPTZ)";
    }
    String text =
        LocalDateTime.ofInstant(now, ZoneOffset.UTC)
            .format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSS"));
    return "CAST('"
        + text
        + "' AS "
        + (dialect == Dialect.MARIADB ? "DATETIME(6)" : "TIMESTAMP")
        + ")";
  }

  private static String textType(Dialect dialect) {
    switch (dialect) {
      case POSTGRES:
        return "TEXT";
      case MARIADB:
        return "CHAR";
      default:
        return "VARCHAR";
    }
  }

  /** The statements that apply one snapshot, held in {@code staging} tables, to {@code history}. */
  List<String> statements(
      Dialect dialect,
      String history,
      List<String> staging,
      List<String> columns,
      List<String> key) {
    if (strategy == Strategy.CHANGES) {
      return changeStatements(dialect, history, staging, columns, key);
    }
    String h = dialect.quote(history);
    String cols = dialect.columnList(columns);
    String snapshot =
        staging.isEmpty()
            ? "(SELECT " + cols + " FROM " + h + " WHERE 1 = 0) s"
            : "("
                + staging.stream()
                    .map(t -> "SELECT " + cols + " FROM " + dialect.quote(t))
                    .collect(Collectors.joining(" UNION ALL "))
                + ") s";
    String hash = hash(dialect);
    String sameKey = sameKey(dialect, key, h);
    String now = nowLiteral(dialect);
    List<String> sql = new ArrayList<>();
    String changed =
        strategy == Strategy.CHECK
            ? hash + " <> " + h + ".row_hash"
            : "s." + dialect.quote(updatedAt) + " > " + h + "." + dialect.quote(updatedAt);
    String boundary =
        strategy == Strategy.CHECK
            ? now
            : "(SELECT MAX(s."
                + dialect.quote(updatedAt)
                + ") FROM "
                + snapshot
                + " WHERE "
                + sameKey
                + ")";
    sql.add(
        "UPDATE "
            + h
            + " SET valid_to = "
            + boundary
            + ", is_current = "
            + bool(dialect, false)
            + " WHERE "
            + h
            + ".is_current = "
            + bool(dialect, true)
            + " AND EXISTS (SELECT 1 FROM "
            + snapshot
            + " WHERE "
            + sameKey
            + " AND ("
            + changed
            + " OR "
            + h
            + ".is_deleted = "
            + bool(dialect, true)
            + "))");
    String from = strategy == Strategy.CHECK ? now : "s." + dialect.quote(updatedAt);
    sql.add(
        "INSERT INTO "
            + h
            + " ("
            + cols
            + ", row_hash, valid_from, valid_to, is_current, is_deleted) SELECT "
            + columns.stream().map(c -> "s." + dialect.quote(c)).collect(Collectors.joining(", "))
            + ", "
            + hash
            + ", "
            + from
            + ", NULL, "
            + bool(dialect, true)
            + ", "
            + bool(dialect, false)
            + " FROM "
            + snapshot
            + " WHERE NOT EXISTS (SELECT 1 FROM "
            + h
            + " WHERE "
            + sameKey
            + " AND "
            + h
            + ".is_current = "
            + bool(dialect, true)
            + ")");
    String missing =
        h
            + ".is_current = "
            + bool(dialect, true)
            + " AND "
            + h
            + ".is_deleted = "
            + bool(dialect, false)
            + " AND NOT EXISTS (SELECT 1 FROM "
            + snapshot
            + " WHERE "
            + sameKey
            + ")";
    if (deletes == Deletes.NEW_RECORD) {
      sql.add(
          "INSERT INTO "
              + h
              + " ("
              + cols
              + ", row_hash, valid_from, valid_to, is_current, is_deleted) SELECT "
              + columns.stream().map(c -> "d." + dialect.quote(c)).collect(Collectors.joining(", "))
              + ", d.row_hash, "
              + now
              + ", NULL, "
              + bool(dialect, true)
              + ", "
              + bool(dialect, true)
              + " FROM (SELECT * FROM "
              + h
              + " WHERE "
              + missing
              + ") d");
      // The versions just added are marked deleted, so "missing" now finds only the ones they
      // replace.
      sql.add(
          "UPDATE "
              + h
              + " SET valid_to = "
              + now
              + ", is_current = "
              + bool(dialect, false)
              + " WHERE "
              + missing);
    } else if (deletes == Deletes.INVALIDATE) {
      sql.add(
          "UPDATE "
              + h
              + " SET valid_to = "
              + now
              + ", is_current = "
              + bool(dialect, false)
              + " WHERE "
              + missing);
    }
    return sql;
  }

  /**
   * Records each staged change not yet in {@code history} as a version, then recomputes {@code
   * valid_to} and {@code is_current} of every version of the keys touched, in source order.
   */
  private List<String> changeStatements(
      Dialect dialect,
      String history,
      List<String> staging,
      List<String> columns,
      List<String> key) {
    String h = dialect.quote(history);
    String version = dialect.quote("_version");
    String deleted = dialect.quote("_deleted");
    String changedAt = dialect.quote("_changed_at");
    List<String> selected = new ArrayList<>(columns);
    selected.add("_changed_at");
    String cols = dialect.columnList(selected);
    String changes =
        "("
            + staging.stream()
                .map(t -> "SELECT " + cols + " FROM " + dialect.quote(t))
                .collect(Collectors.joining(" UNION ALL "))
            + ") s";
    String hash = hash(dialect);
    String sameKey = sameKey(dialect, key, h);
    List<String> sql = new ArrayList<>();
    if (staging.isEmpty()) {
      return sql;
    }
    String keep =
        "s."
            + dialect.quote(key.get(0))
            + " IS NOT NULL"
            + (deletes == Deletes.IGNORE ? " AND NOT s." + deleted : "");
    sql.add(
        "INSERT INTO "
            + h
            + " ("
            + dialect.columnList(columns)
            + ", row_hash, valid_from, valid_to, is_current, is_deleted) SELECT DISTINCT "
            + columns.stream().map(c -> "s." + dialect.quote(c)).collect(Collectors.joining(", "))
            + ", "
            + hash
            + ", s."
            + changedAt
            + ", CAST(NULL AS "
            + timestampType(dialect)
            + "), "
            + bool(dialect, false)
            + ", s."
            + deleted
            + " FROM "
            + changes
            + " WHERE "
            + keep
            + " AND NOT EXISTS (SELECT 1 FROM "
            + h
            + " WHERE "
            + sameKey
            + " AND "
            + h
            + "."
            + version
            + " = s."
            + version
            + ")");
    String keys = key.stream().map(dialect::quote).collect(Collectors.joining(", "));
    String touched =
        "EXISTS (SELECT 1 FROM " + changes + " WHERE " + sameKey.replace(h + ".", "v.") + ")";
    String neighbours =
        "(SELECT "
            + keys
            + ", "
            + version
            + ", LEAD(valid_from) OVER (PARTITION BY "
            + keys
            + " ORDER BY "
            + version
            + ") AS next_from FROM "
            + h
            + " v WHERE "
            + touched
            + ") n";
    String current =
        deletes == Deletes.NEW_RECORD
            ? "n.next_from IS NULL"
            : "n.next_from IS NULL AND NOT " + h + ".is_deleted";
    String join =
        key.stream()
                .map(k -> "n." + dialect.quote(k) + " = " + h + "." + dialect.quote(k))
                .collect(Collectors.joining(" AND "))
            + " AND n."
            + version
            + " = "
            + h
            + "."
            + version;
    if (dialect == Dialect.MARIADB) {
      sql.add(
          "UPDATE "
              + h
              + " JOIN "
              + neighbours
              + " ON "
              + join
              + " SET "
              + h
              + ".valid_to = n.next_from, "
              + h
              + ".is_current = ("
              + current
              + ")");
    } else {
      sql.add(
          "UPDATE "
              + h
              + " SET valid_to = n.next_from, is_current = ("
              + current
              + ") FROM "
              + neighbours
              + " WHERE "
              + join);
    }
    return sql;
  }

  /** An MD5 of the tracked columns of staged row {@code s}, nulls written as {@code \\N}. */
  private String hash(Dialect dialect) {
    return "MD5(CONCAT_WS('|', "
        + tracked.stream()
            .map(
                c ->
                    "COALESCE(CAST(s."
                        + dialect.quote(c)
                        + " AS "
                        + textType(dialect)
                        + "), '\\\\N')")
            .collect(Collectors.joining(", "))
        + "))";
  }

  /** Staged row {@code s} and a row of {@code h} (a quoted table) have the same key. */
  private static String sameKey(Dialect dialect, List<String> key, String h) {
    return key.stream()
        .map(k -> "s." + dialect.quote(k) + " = " + h + "." + dialect.quote(k))
        .collect(Collectors.joining(" AND "));
  }

  private static String timestampType(Dialect dialect) {
    return dialect == Dialect.POSTGRES
        ? "TIMESTAMPTZ"
        : dialect == Dialect.MARIADB ? "DATETIME(6)" : "TIMESTAMP";
  }

  private static String bool(Dialect dialect, boolean value) {
    return dialect == Dialect.MARIADB ? (value ? "1" : "0") : (value ? "TRUE" : "FALSE");
  }

  @Override
  public String toString() {
    if (strategy == Strategy.CHANGES) {
      return "scd2 from changes of "
          + tracked
          + ", deletes "
          + deletes.name().toLowerCase(Locale.ROOT);
    }
    return "scd2 "
        + strategy.name().toLowerCase(Locale.ROOT)
        + " of "
        + tracked
        + ", deletes "
        + deletes.name().toLowerCase(Locale.ROOT);
  }
}
