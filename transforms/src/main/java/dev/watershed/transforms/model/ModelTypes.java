package dev.watershed.transforms.model;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.Schema.FieldType;
import org.apache.beam.sdk.schemas.logicaltypes.MicrosInstant;
import org.apache.beam.sdk.schemas.logicaltypes.SqlTypes;
import org.apache.beam.sdk.values.Row;

/**
 * The field types a canonical model may declare, and their Beam representation.
 *
 * <table>
 *   <caption>Spec type to Beam type</caption>
 *   <tr><th>spec</th><th>Beam</th><th>Java value</th></tr>
 *   <tr><td>string</td><td>STRING</td><td>String</td></tr>
 *   <tr><td>int</td><td>INT32</td><td>Integer</td></tr>
 *   <tr><td>long</td><td>INT64</td><td>Long</td></tr>
 *   <tr><td>decimal(p,s)</td><td>DECIMAL, with precision and scale as field options</td>
 *       <td>BigDecimal of scale s</td></tr>
 *   <tr><td>boolean</td><td>BOOLEAN</td><td>Boolean</td></tr>
 *   <tr><td>date</td><td>{@link SqlTypes#DATE}</td><td>LocalDate</td></tr>
 *   <tr><td>timestamp</td><td>{@link #TIMESTAMP}, Beam's {@link MicrosInstant}</td>
 *       <td>Instant (UTC)</td></tr>
 * </table>
 */
public final class ModelTypes {
  /** Field option holding a decimal's precision. */
  public static final String PRECISION_OPTION = "watershed_precision";

  /** Field option holding a decimal's scale. */
  public static final String SCALE_OPTION = "watershed_scale";

  /** The type names accepted in a spec, for error messages. */
  public static final String ALLOWED = "string, int, long, decimal(p,s), boolean, date, timestamp";

  private static final Pattern DECIMAL =
      Pattern.compile("decimal\\s*\\(\\s*(\\d+)\\s*,\\s*(\\d+)\\s*\\)");

  /**
   * The logical type of timestamp fields: Beam's {@link MicrosInstant} (same identifier and base
   * type, so every Beam IO treats it as one), encoded without re-checking a freshly built row.
   */
  public static final Schema.LogicalType<Instant, Row> TIMESTAMP = new Timestamp();

  private ModelTypes() {}

  /**
   * Beam's {@link MicrosInstant} builds its base row with {@code Row.Builder.build()}, which checks
   * both values against the schema on every encode: measured at a tenth of a load's CPU when rows
   * cross a shuffle. The two values here are always a long and an int, so they are attached as they
   * are.
   */
  private static final class Timestamp extends MicrosInstant {
    private static final Schema BASE =
        Schema.builder().addInt64Field("seconds").addInt32Field("micros").build();

    @Override
    public Row toBaseType(Instant input) {
      if (input.getNano() % 1000 != 0) {
        // As Beam's type: a model timestamp holds microseconds; Conform truncates to them.
        return super.toBaseType(input);
      }
      return Row.withSchema(BASE).attachValues(input.getEpochSecond(), input.getNano() / 1000);
    }
  }

  /**
   * A nullable model field of the declared type.
   *
   * @throws IllegalArgumentException naming the bad type and the allowed ones
   */
  public static Schema.Field field(String name, String declared) {
    String type = declared.trim().toLowerCase(Locale.ROOT);
    Matcher decimal = DECIMAL.matcher(type);
    if (decimal.matches()) {
      int precision = Integer.parseInt(decimal.group(1));
      int scale = Integer.parseInt(decimal.group(2));
      if (precision < 1 || precision > 38 || scale > precision) {
        throw new IllegalArgumentException(
            "decimal("
                + precision
                + ","
                + scale
                + ") needs 1 <= precision <= 38 and scale <= precision");
      }
      return Schema.Field.nullable(name, FieldType.DECIMAL)
          .withOptions(
              Schema.Options.builder()
                  .setOption(PRECISION_OPTION, FieldType.INT32, precision)
                  .setOption(SCALE_OPTION, FieldType.INT32, scale));
    }
    FieldType fieldType;
    switch (type) {
      case "string":
        fieldType = FieldType.STRING;
        break;
      case "int":
        fieldType = FieldType.INT32;
        break;
      case "long":
        fieldType = FieldType.INT64;
        break;
      case "boolean":
        fieldType = FieldType.BOOLEAN;
        break;
      case "date":
        fieldType = FieldType.logicalType(SqlTypes.DATE);
        break;
      case "timestamp":
        fieldType = FieldType.logicalType(TIMESTAMP);
        break;
      default:
        throw new IllegalArgumentException("unknown type '" + declared + "'; allowed: " + ALLOWED);
    }
    return Schema.Field.nullable(name, fieldType);
  }

  /** The kind of a model field, independent of nullability and options. */
  public enum Kind {
    STRING,
    INT,
    LONG,
    DECIMAL,
    BOOLEAN,
    DATE,
    TIMESTAMP
  }

  /** The kind of a field built by {@link #field}. */
  public static Kind kind(Schema.Field field) {
    FieldType type = field.getType();
    switch (type.getTypeName()) {
      case STRING:
        return Kind.STRING;
      case INT32:
        return Kind.INT;
      case INT64:
        return Kind.LONG;
      case DECIMAL:
        return Kind.DECIMAL;
      case BOOLEAN:
        return Kind.BOOLEAN;
      case LOGICAL_TYPE:
        String id = type.getLogicalType().getIdentifier();
        if (id.equals(SqlTypes.DATE.getIdentifier())) {
          return Kind.DATE;
        }
        if (id.equals(SqlTypes.TIMESTAMP.getIdentifier())) {
          return Kind.TIMESTAMP;
        }
        break;
      default:
        break;
    }
    throw new IllegalArgumentException("field " + field.getName() + " has no model type: " + type);
  }

  /**
   * A decimal value at its field's declared scale (rounded half-up), or unchanged when the field
   * declares none.
   */
  public static BigDecimal atScale(Schema.Field field, BigDecimal value) {
    if (value == null || !field.getOptions().hasOption(SCALE_OPTION)) {
      return value;
    }
    return value.setScale(scale(field), RoundingMode.HALF_UP);
  }

  /** The spec type of a field built by {@link #field}, e.g. {@code decimal(12,2)}. */
  public static String describe(Schema.Field field) {
    Kind kind = kind(field);
    if (kind == Kind.DECIMAL) {
      return "decimal(" + precision(field) + "," + scale(field) + ")";
    }
    return kind.name().toLowerCase(Locale.ROOT);
  }

  /** A decimal field's precision (38 when the field carries none). */
  public static int precision(Schema.Field field) {
    return field.getOptions().hasOption(PRECISION_OPTION)
        ? field.getOptions().<Integer>getValue(PRECISION_OPTION)
        : 38;
  }

  /** A decimal field's scale (0 when the field carries none). */
  public static int scale(Schema.Field field) {
    return field.getOptions().hasOption(SCALE_OPTION)
        ? field.getOptions().<Integer>getValue(SCALE_OPTION)
        : 0;
  }

  /**
   * A timestamp as a warehouse prints it, as an instant: with an offset (PostgreSQL's {@code
   * TIMESTAMPTZ}, e.g. {@code 2024-01-01 01:00:00+01}) or as UTC wall time (DuckDB, MariaDB).
   */
  public static Instant instant(String text) {
    String t = text.trim().replace(' ', 'T');
    try {
      return OffsetDateTime.parse(t.matches(".*[+-]\\d\\d$") ? t + ":00" : t).toInstant();
    } catch (DateTimeParseException e) {
      return LocalDateTime.parse(
              t,
              new DateTimeFormatterBuilder()
                  .appendPattern("uuuu-MM-dd'T'HH:mm[:ss]")
                  .optionalStart()
                  .appendFraction(ChronoField.NANO_OF_SECOND, 0, 9, true)
                  .optionalEnd()
                  .toFormatter())
          .toInstant(ZoneOffset.UTC);
    }
  }
}
