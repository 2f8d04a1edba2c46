package dev.watershed.transforms.drift;

import java.io.Serializable;

/**
 * One change in a source's schema: a column {@code added}, {@code removed} or {@code type_changed},
 * and what the run did about it ({@code allowed}, {@code evolved}, {@code quarantined}, {@code
 * failed}).
 */
public record DriftEvent(
    String source, String column, String change, String oldType, String newType, String action)
    implements Serializable {

  public DriftEvent withAction(String what) {
    return new DriftEvent(source, column, change, oldType, newType, what);
  }

  /** One line for the run summary, e.g. {@code crm: column vip added (boolean): evolved}. */
  public String describe() {
    String types =
        switch (change) {
          case "added" -> " (" + newType + ")";
          case "removed" -> " (was " + oldType + ")";
          default -> " from " + oldType + " to " + newType;
        };
    return source + ": column " + column + " " + change.replace('_', ' ') + types + ": " + action;
  }
}
