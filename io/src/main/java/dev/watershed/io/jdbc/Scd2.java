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
    TIMESTAMP
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
    String hash =
        "MD5(CONCAT_WS('|', "
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
    String sameKey =
        key.stream()
            .map(k -> "s." + dialect.quote(k) + " = " + h + "." + dialect.quote(k))
            .collect(Collectors.joining(" AND "));
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

  private static String bool(Dialect dialect, boolean value) {
    return dialect == Dialect.MARIADB ? (value ? "1" : "0") : (value ? "TRUE" : "FALSE");
  }

  @Override
  public String toString() {
    return "scd2 "
        + strategy.name().toLowerCase(Locale.ROOT)
        + " of "
        + tracked
        + ", deletes "
        + deletes.name().toLowerCase(Locale.ROOT);
  }
}
