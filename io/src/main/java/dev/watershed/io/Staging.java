package dev.watershed.io;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.UUID;
import java.util.zip.CRC32;

/**
 * Names what a load writes before it commits (staging tables, staging files and folders) after the
 * pipeline and the run that wrote it: {@code <pipeline tag>_<run>}. A later run of the same
 * pipeline, holding the pipeline's run lock, can then remove what a run that crashed left behind,
 * and never touches what another pipeline is writing.
 *
 * <p>The tag is the pipeline's name, lower case, letters, digits and underscores only, cut to 16
 * characters, then four hex digits of a checksum of the whole name, so two pipelines whose names
 * differ only past the cut, or in punctuation, never share a tag. Database identifiers stay short
 * (PostgreSQL's limit is 63 characters).
 */
public final class Staging {
  /** What every staging table of a pipeline's run starts with. */
  public static final String TABLE_PREFIX = "_ws_run_";

  private Staging() {}

  /** The tag of {@code pipeline}: for "Customer 360", {@code customer_360_} and four hex digits. */
  public static String tag(String pipeline) {
    String clean = pipeline.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
    CRC32 crc = new CRC32();
    crc.update(pipeline.getBytes(StandardCharsets.UTF_8));
    return clean.substring(0, Math.min(16, clean.length()))
        + "_"
        + String.format("%04x", crc.getValue() & 0xffff);
  }

  /** A new run id: eight hex digits. */
  public static String newRun() {
    return UUID.randomUUID().toString().substring(0, 8);
  }

  /** The staging table prefix of one run of {@code pipeline}; each worker adds its own suffix. */
  public static String tablePrefix(String pipeline, String run) {
    return TABLE_PREFIX + tag(pipeline) + "_" + run;
  }

  /**
   * True when {@code table} (without its schema) is a staging table of a run of the tagged
   * pipeline.
   */
  public static boolean isTableOf(String table, String tag) {
    return table.toLowerCase(Locale.ROOT).startsWith(TABLE_PREFIX + tag + "_");
  }
}
