package dev.watershed.transforms.drift;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Compares the schema a source is expected to have with the one it has now.
 *
 * <pre>{@code
 * List<DriftEvent> changes =
 *     SchemaDrift.compare("crm", Map.of("id", "int", "email", "string"), observed);
 * }</pre>
 */
public final class SchemaDrift {
  private SchemaDrift() {}

  /**
   * The columns added, removed, and whose values no longer fit their type, in column order; the
   * events' actions are left empty for the caller's drift policy to fill in.
   */
  public static List<DriftEvent> compare(
      String source, Map<String, String> expected, Map<String, String> observed) {
    List<DriftEvent> events = new ArrayList<>();
    for (Map.Entry<String, String> column : observed.entrySet()) {
      String old = expected.get(column.getKey());
      if (old == null) {
        events.add(new DriftEvent(source, column.getKey(), "added", null, column.getValue(), ""));
      } else if (!SourceTypes.fits(column.getValue(), old)) {
        events.add(
            new DriftEvent(source, column.getKey(), "type_changed", old, column.getValue(), ""));
      }
    }
    for (Map.Entry<String, String> column : expected.entrySet()) {
      if (!observed.containsKey(column.getKey())) {
        events.add(new DriftEvent(source, column.getKey(), "removed", column.getValue(), null, ""));
      }
    }
    return events;
  }
}
