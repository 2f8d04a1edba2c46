package dev.watershed.transforms.expression;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A small mapping table held in memory on every worker, for codes each system spells its own way
 * ({@code Deutschland}, {@code GER}, {@code Germany} to {@code DE}). Rows are column → text; a key
 * matches ignoring case and surrounding spaces.
 *
 * <pre>{@code
 * LookupTable countries = LookupTable.of("country_codes", "name", rows);
 * countries.get("iso2", "Deutschland");   // "DE", or null when no row has that name
 * }</pre>
 */
public final class LookupTable implements Serializable {
  /** Rows above this many are refused: a larger table belongs in a join, not in memory. */
  public static final int MAX_ROWS = 1_000_000;

  private final String name;
  private final String keyColumn;
  private final List<String> columns;
  private final Map<String, Index> indexes = new HashMap<>();
  private final List<Map<String, String>> rows;

  private LookupTable(
      String name, String keyColumn, List<String> columns, List<Map<String, String>> rows) {
    this.name = name;
    this.keyColumn = keyColumn;
    this.columns = List.copyOf(columns);
    this.rows = rows;
  }

  /**
   * A table of {@code rows} (each column → text) whose default key column is {@code keyColumn}.
   *
   * @throws IllegalArgumentException when the key column is missing or there are too many rows
   */
  public static LookupTable of(
      String name, String keyColumn, List<String> columns, List<Map<String, String>> rows) {
    if (!columns.contains(keyColumn)) {
      throw new IllegalArgumentException(
          "lookup table '" + name + "' has no column '" + keyColumn + "'; columns: " + columns);
    }
    if (rows.size() > MAX_ROWS) {
      throw new IllegalArgumentException(
          "lookup table '"
              + name
              + "' has "
              + rows.size()
              + " rows; at most "
              + MAX_ROWS
              + " are held in memory");
    }
    List<Map<String, String>> copy = new ArrayList<>();
    for (Map<String, String> row : rows) {
      copy.add(new HashMap<>(row));
    }
    return new LookupTable(name, keyColumn, columns, copy);
  }

  public String name() {
    return name;
  }

  public String keyColumn() {
    return keyColumn;
  }

  public List<String> columns() {
    return columns;
  }

  public boolean hasColumn(String column) {
    return columns.contains(column);
  }

  /** The {@code valueColumn} of the row whose default key column matches {@code key}. */
  public String get(String valueColumn, String key) {
    return index(keyColumn, valueColumn).get(key);
  }

  /**
   * The {@code valueColumn} of each {@code keyColumn} value (the first row's where several share
   * one), built once per pair of columns: resolve it when a rule is set up, not per record.
   */
  public synchronized Index index(String keyColumn, String valueColumn) {
    return indexes.computeIfAbsent(
        keyColumn + "\u0000" + valueColumn,
        pair -> {
          Map<String, String> values = new HashMap<>();
          for (Map<String, String> row : rows) {
            String key = row.get(keyColumn);
            if (key != null) {
              values.putIfAbsent(matchKey(key), row.get(valueColumn));
            }
          }
          return new Index(values);
        });
  }

  /** One key column's values mapped to one value column's. */
  public static final class Index implements Serializable {
    private final Map<String, String> values;

    private Index(Map<String, String> values) {
      this.values = values;
    }

    /** The value for {@code key} (case and surrounding spaces ignored); null when none or null. */
    public String get(String key) {
      return key == null ? null : values.get(matchKey(key));
    }
  }

  private static String matchKey(String key) {
    return key.trim().toLowerCase(Locale.ROOT);
  }

  @Override
  public String toString() {
    return "lookup table " + name + " (" + rows.size() + " rows)";
  }
}
