package dev.watershed.io;

import java.util.Locale;

/** How a load treats rows already in the destination. */
public enum WriteMode {
  /** Adds the rows; loading the same rows twice doubles them. */
  APPEND,
  /** Replaces the destination's contents with the rows of this run. */
  OVERWRITE,
  /**
   * Upserts by the model key: new keys are inserted, existing keys updated, unless the destination
   * row has a newer version (see the loads' version guard). Loading the same rows twice changes
   * nothing.
   */
  MERGE;

  /** The mode named in a spec: {@code append}, {@code overwrite} or {@code merge}. */
  public static WriteMode named(String name) {
    try {
      return valueOf(name.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "unknown write mode '" + name + "'; allowed: append, overwrite, merge");
    }
  }

  public String specName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
