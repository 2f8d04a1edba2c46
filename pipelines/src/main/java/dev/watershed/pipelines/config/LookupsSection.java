package dev.watershed.pipelines.config;

import dev.watershed.io.files.CsvFormat;
import dev.watershed.io.files.CsvSource;
import dev.watershed.io.jdbc.Dialect;
import dev.watershed.io.jdbc.JdbcEndpoint;
import dev.watershed.transforms.expression.LookupTable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code lookups:}: mapping tables that conform rules translate values with, from a CSV file with a
 * header or a database table or query, read once when the spec is read and held in memory.
 *
 * <pre>
 * lookups:
 *   country_codes: { file: lookups/country_codes.csv, key: name }
 *   plans: { url: jdbc:postgresql://db/app, user: etl, password: ${env:PW}, table: plans, key: code }
 * </pre>
 */
final class LookupsSection {
  private LookupsSection() {}

  /**
   * The lookup tables by name; one whose declaration has a problem (reported) maps to null, so that
   * rules naming it are not a second problem.
   */
  static Map<String, LookupTable> lookups(ParseContext context, YamlObject section) {
    Map<String, LookupTable> out = new LinkedHashMap<>();
    for (Map.Entry<String, YamlObject> entry : section.objects().entrySet()) {
      String name = entry.getKey();
      out.put(name, null);
      YamlObject block = entry.getValue();
      Sections.checkName(section, name, "lookup table");
      block.rejectUnknown(Set.of("file", "url", "user", "password", "table", "query", "key"));
      String file = block.string("file", false);
      String url = block.string("url", false);
      if ((file == null) == (url == null)) {
        block.error(null, "give exactly one of 'file' (a CSV file) and 'url' (a database)");
        continue;
      }
      List<String> columns = new ArrayList<>();
      List<Map<String, String>> rows = new ArrayList<>();
      try {
        if (file != null) {
          Path path = context.baseDir().resolve(file).normalize();
          if (!Files.isRegularFile(path)) {
            context.checkFileExists(block, "file", file);
            continue;
          }
          readCsv(path, columns, rows);
        } else {
          String table = block.string("table", false);
          String query = block.string("query", false);
          if ((table == null) == (query == null)) {
            block.error(null, "give exactly one of 'table' and 'query'");
            continue;
          }
          readTable(
              JdbcEndpoint.of(url)
                  .withUser(block.string("user", false))
                  .withPassword(block.string("password", false)),
              query != null ? query : "SELECT * FROM " + Dialect.of(url).quote(table),
              columns,
              rows);
        }
      } catch (IOException | SQLException | IllegalArgumentException e) {
        block.error(
            file != null ? "file" : "url",
            "cannot read lookup table '" + name + "': " + e.getMessage());
        continue;
      }
      if (columns.isEmpty()) {
        block.error(null, "lookup table '" + name + "' has no columns");
        continue;
      }
      String key = block.string("key", columns.get(0));
      try {
        out.put(name, LookupTable.of(name, key, columns, rows));
      } catch (IllegalArgumentException e) {
        block.error("key", e.getMessage());
      }
    }
    return out;
  }

  private static void readCsv(Path path, List<String> columns, List<Map<String, String>> rows)
      throws IOException {
    try (CsvSource.Records records = CsvSource.records(path.toString(), CsvFormat.rfc4180())) {
      List<String> header = records.next();
      if (header == null) {
        throw new IOException(path + " is empty; a header record is needed");
      }
      columns.addAll(header);
      List<String> fields;
      while ((fields = records.next()) != null) {
        Map<String, String> row = new HashMap<>();
        for (int i = 0; i < header.size() && i < fields.size(); i++) {
          row.put(header.get(i), fields.get(i));
        }
        rows.add(row);
        if (rows.size() > LookupTable.MAX_ROWS) {
          break;
        }
      }
    }
  }

  private static void readTable(
      JdbcEndpoint endpoint, String query, List<String> columns, List<Map<String, String>> rows)
      throws SQLException {
    try (Connection connection = endpoint.connect();
        Statement statement = connection.createStatement();
        ResultSet result = statement.executeQuery(query)) {
      ResultSetMetaData meta = result.getMetaData();
      for (int i = 1; i <= meta.getColumnCount(); i++) {
        columns.add(meta.getColumnLabel(i));
      }
      while (result.next() && rows.size() <= LookupTable.MAX_ROWS) {
        Map<String, String> row = new HashMap<>();
        for (int i = 1; i <= columns.size(); i++) {
          row.put(columns.get(i - 1), result.getString(i));
        }
        rows.add(row);
      }
    }
  }
}
