package dev.watershed.io.jdbc;

import dev.watershed.transforms.model.CanonicalModel;
import dev.watershed.transforms.model.ModelTypes;
import dev.watershed.transforms.records.RawRecords;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import org.apache.beam.sdk.schemas.Schema;

/**
 * The SQL that applies a change stream's rows (a model that {@link CanonicalModel#tracksChanges()})
 * from a staging table to the target table, keyed by the model key.
 *
 * <p>Staged rows hold one change per key (the newest, by {@code _version}). Upserts replace the
 * stored row unless it holds a newer {@code _version}; deletes remove it ({@link Deletes#HARD}) or
 * mark it with {@code _deleted_at} ({@link Deletes#SOFT}), again only when not older than it. So
 * changes may arrive late, twice or replayed and the table still ends as the source did.
 *
 * <p>A hard delete leaves no row to compare a late older upsert against, so each hard delete's key
 * and version are also kept in a small side table, {@code _ws_deleted_<table>}, which upserts
 * check; a soft delete keeps its row with the key's last known values, whether they were stored by
 * an earlier run or came with the delete (a delete staged in the same batch as its key's insert
 * carries the insert's values), and keeps a row of the key alone when the deleted row was never
 * seen.
 *
 * <p>A truncate (Debezium {@code op: t}) is staged as a delete without a key: every stored row
 * older than it is deleted (or marked), and so are staged upserts older than it. A change older
 * than a truncate that arrives in a later run than the truncate is applied: the truncate's version
 * is not kept.
 *
 * <p>Target columns: the model's data fields, {@code _source}, {@code _version}, {@code
 * _changed_at} (when the source made the change), and for soft deletes {@code _deleted_at}.
 */
public final class ChangeApply implements Serializable {
  /** How a delete is applied. */
  public enum Deletes {
    /** The row is removed. */
    HARD,
    /** The row stays, with {@code _deleted_at} set to when the source deleted it. */
    SOFT
  }

  /** The column a soft delete sets. */
  public static final String DELETED_AT = "_deleted_at";

  private final Deletes deletes;

  private ChangeApply(Deletes deletes) {
    this.deletes = deletes;
  }

  public static ChangeApply of(Deletes deletes) {
    return new ChangeApply(deletes);
  }

  public Deletes deletes() {
    return deletes;
  }

  /** The target table's columns for {@code model}. */
  List<Schema.Field> targetFields(CanonicalModel model) {
    List<Schema.Field> fields = new ArrayList<>();
    for (Schema.Field field : model.loadFields()) {
      if (!field.getName().equals(RawRecords.DELETED)) {
        fields.add(field);
      }
    }
    fields.add(model.schema().getField(RawRecords.CHANGED_AT));
    if (deletes == Deletes.SOFT) {
      fields.add(ModelTypes.field(DELETED_AT, "timestamp"));
    }
    return fields;
  }

  /** The staging table's columns for {@code model}: its load fields and {@code _changed_at}. */
  static List<Schema.Field> stagingFields(CanonicalModel model) {
    List<Schema.Field> fields = new ArrayList<>(model.loadFields());
    fields.add(model.schema().getField(RawRecords.CHANGED_AT));
    return fields;
  }

  /** The side table of hard deletes' keys and versions for {@code table}. */
  static String deletesTable(String table) {
    int dot = table.lastIndexOf('.');
    return table.substring(0, dot + 1)
        + "_ws_deleted_"
        + table.substring(dot + 1).toLowerCase(Locale.ROOT);
  }

  /** Statements to run once, outside the apply transaction: the side table of hard deletes. */
  List<String> prepare(Dialect dialect, String table, CanonicalModel model) {
    if (deletes == Deletes.SOFT) {
      return List.of();
    }
    List<Schema.Field> fields = new ArrayList<>();
    for (String key : model.key()) {
      fields.add(model.schema().getField(key));
    }
    fields.add(model.schema().getField(RawRecords.VERSION));
    return List.of(dialect.createTable(deletesTable(table), fields, model.key()));
  }

  /** The statements, run in one transaction, that apply {@code staging} to {@code table}. */
  List<String> statements(Dialect dialect, String table, String staging, CanonicalModel model) {
    List<String> key = model.key();
    String version = RawRecords.VERSION;
    String s = dialect.quote(staging) + ".";
    String firstKey = dialect.quote(key.get(0));
    // A truncate is a staged delete without a key: it deletes every row older than itself.
    String isTruncate = s + dialect.quote(RawRecords.DELETED) + " AND " + s + firstKey + " IS NULL";
    String isDelete =
        s + dialect.quote(RawRecords.DELETED) + " AND " + s + firstKey + " IS NOT NULL";
    List<String> upsertColumns =
        targetFields(model).stream().map(Schema.Field::getName).collect(Collectors.toList());
    List<String> upsertValues = new ArrayList<>(upsertColumns);
    List<String> statements = new ArrayList<>();
    String truncates =
        "SELECT max("
            + dialect.quote(version)
            + ") FROM "
            + dialect.quote(staging)
            + " WHERE "
            + isTruncate;
    String olderThanTruncate =
        "("
            + truncates
            + ") IS NOT NULL AND ("
            + dialect.quote(version)
            + " IS NULL OR "
            + dialect.quote(version)
            + " < ("
            + truncates
            + "))";
    String truncateSoftly =
        "UPDATE "
            + dialect.quote(table)
            + " SET "
            + dialect.quote(DELETED_AT)
            + " = (SELECT max("
            + dialect.quote(RawRecords.CHANGED_AT)
            + ") FROM "
            + dialect.quote(staging)
            + " WHERE "
            + isTruncate
            + ") WHERE "
            + dialect.quote(DELETED_AT)
            + " IS NULL AND "
            + olderThanTruncate;
    if (deletes == Deletes.HARD) {
      statements.add("DELETE FROM " + dialect.quote(table) + " WHERE " + olderThanTruncate);
    }
    // Hard: upserts older than a truncate in the same batch were truncated with the table. Soft:
    // they are loaded, then marked by the truncate like every other older row.
    String upsertsOnly =
        deletes == Deletes.SOFT
            ? "NOT " + s + dialect.quote(RawRecords.DELETED)
            : "NOT "
                + s
                + dialect.quote(RawRecords.DELETED)
                + " AND NOT ("
                + s
                + dialect.quote(version)
                + " < COALESCE(("
                + truncates
                + "), -1))";
    if (deletes == Deletes.SOFT) {
      upsertValues.set(upsertColumns.indexOf(DELETED_AT), "NULL");
      // A delete marks a stored row and keeps its values; a key not stored yet is inserted with
      // the values the delete carries (the key's last known ones, see LastKnownValues).
      List<String> deleteValues = new ArrayList<>(upsertColumns);
      deleteValues.set(upsertColumns.indexOf(DELETED_AT), RawRecords.CHANGED_AT);
      List<String> marked = List.of(RawRecords.SOURCE, version, RawRecords.CHANGED_AT, DELETED_AT);
      statements.add(
          dialect.upsert(
              table, staging, upsertColumns, deleteValues, marked, key, version, isDelete));
    } else {
      String deleted = deletesTable(table);
      List<String> deleteColumns = new ArrayList<>(key);
      deleteColumns.add(version);
      statements.add(
          dialect.upsert(deleted, staging, deleteColumns, deleteColumns, key, version, isDelete));
      String t = dialect.quote(table) + ".";
      statements.add(
          "DELETE FROM "
              + dialect.quote(table)
              + " WHERE EXISTS (SELECT 1 FROM "
              + dialect.quote(staging)
              + " WHERE "
              + isDelete
              + " AND "
              + sameKey(dialect, key, s, t)
              + " AND ("
              + t
              + dialect.quote(version)
              + " IS NULL OR "
              + s
              + dialect.quote(version)
              + " >= "
              + t
              + dialect.quote(version)
              + "))");
      String d = dialect.quote(deleted) + ".";
      upsertsOnly +=
          " AND NOT EXISTS (SELECT 1 FROM "
              + dialect.quote(deleted)
              + " WHERE "
              + sameKey(dialect, key, s, d)
              + " AND "
              + d
              + dialect.quote(version)
              + " >= "
              + s
              + dialect.quote(version)
              + ")";
    }
    statements.add(
        dialect.upsert(table, staging, upsertColumns, upsertValues, key, version, upsertsOnly));
    if (deletes == Deletes.SOFT) {
      statements.add(truncateSoftly);
    }
    return statements;
  }

  private static String sameKey(Dialect dialect, List<String> key, String a, String b) {
    return key.stream()
        .map(k -> a + dialect.quote(k) + " = " + b + dialect.quote(k))
        .collect(Collectors.joining(" AND "));
  }

  @Override
  public String toString() {
    return "apply changes, " + deletes.name().toLowerCase(Locale.ROOT) + " deletes";
  }
}
