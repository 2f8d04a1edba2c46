package dev.watershed.io.jdbc;

import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Comparator;
import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.coders.NullableCoder;
import org.apache.beam.sdk.coders.StringUtf8Coder;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.MapElements;
import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.PCollectionView;
import org.apache.beam.sdk.values.Row;
import org.apache.beam.sdk.values.TypeDescriptors;

/**
 * The highest value of one field across the rows a source read, as a view a load commits to {@link
 * RunState} as the source's mark ({@link JdbcLoad#withFoundMarks}). A source whose next read asks
 * for "changed since" a value (an API's {@code updated_since}) keeps the highest value it saw
 * rather than the time the run started: the value comes from the source's own clock, so a clock
 * that differs from this machine's never skips a change.
 *
 * <p>Values compare as instants when both are ISO-8601 date-times with an offset, as numbers when
 * both are numbers, and as text otherwise. Rows without the field are ignored; no rows at all give
 * a null view, and the load keeps the mark it had.
 */
public final class HighestMark extends PTransform<PCollection<Row>, PCollectionView<String>> {
  private final String field;

  private HighestMark(String field) {
    this.field = field;
  }

  /** The highest value of {@code field} (a nullable string field of the rows). */
  public static HighestMark of(String field) {
    return new HighestMark(field);
  }

  @Override
  public PCollectionView<String> expand(PCollection<Row> rows) {
    String name = field;
    return rows.apply(
            "value of " + field,
            MapElements.into(TypeDescriptors.strings()).via((Row row) -> valueOf(row, name)))
        .setCoder(NullableCoder.of(StringUtf8Coder.of()))
        .apply("highest " + field, Combine.globally(new Highest()).asSingletonView());
  }

  private static String valueOf(Row row, String field) {
    return row.getSchema().hasField(field) ? row.getString(field) : null;
  }

  /** The order marks are compared in: instants, then numbers, then text. */
  static final Comparator<String> ORDER =
      (a, b) -> {
        OffsetDateTime x = instant(a);
        OffsetDateTime y = instant(b);
        if (x != null && y != null) {
          return x.toInstant().compareTo(y.toInstant());
        }
        BigDecimal m = number(a);
        BigDecimal n = number(b);
        if (m != null && n != null) {
          return m.compareTo(n);
        }
        return a.compareTo(b);
      };

  private static OffsetDateTime instant(String value) {
    try {
      return OffsetDateTime.parse(value);
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  private static BigDecimal number(String value) {
    try {
      return new BigDecimal(value.trim());
    } catch (NumberFormatException e) {
      return null;
    }
  }

  /** Keeps the highest non-empty value; null when there is none. */
  static final class Highest extends Combine.CombineFn<String, String, String> {
    @Override
    public String createAccumulator() {
      return null;
    }

    @Override
    public String addInput(String highest, String value) {
      if (value == null || value.isBlank()) {
        return highest;
      }
      return highest == null || ORDER.compare(value, highest) > 0 ? value : highest;
    }

    @Override
    public String mergeAccumulators(Iterable<String> accumulators) {
      String highest = null;
      for (String value : accumulators) {
        highest = addInput(highest, value);
      }
      return highest;
    }

    @Override
    public String extractOutput(String highest) {
      return highest;
    }

    @Override
    public Coder<String> getAccumulatorCoder(CoderRegistry registry, Coder<String> input) {
      return NullableCoder.of(StringUtf8Coder.of());
    }

    @Override
    public Coder<String> getDefaultOutputCoder(CoderRegistry registry, Coder<String> input) {
      return NullableCoder.of(StringUtf8Coder.of());
    }
  }
}
