package dev.watershed.transforms.conform;

import com.google.i18n.phonenumbers.PhoneNumberUtil;
import dev.watershed.transforms.expression.LookupTable;
import dev.watershed.transforms.expression.SqlExpression;
import java.io.Serializable;
import java.text.DecimalFormatSymbols;
import java.time.DateTimeException;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;

/**
 * How one canonical field gets its value: from a source column, a constant or a SQL expression;
 * then an optional lookup in a mapping table, normalisers, the cast to the field's declared type,
 * and an optional prefix. A value that fails any step does what {@link OnError} says.
 *
 * <p>Immutable; every {@code withX()} returns a new rule.
 *
 * <pre>{@code
 * FieldRule.from("id").withPrefix("crm-");
 * FieldRule.from("email_address").withNormalizers("email");
 * FieldRule.from("phone").withNormalizers("phone").withRegion("DE");
 * FieldRule.from("signed_up").withFormats("dd/MM/yyyy", "MM-dd-yyyy", "yyyy-MM-dd");
 * FieldRule.from("balance").withNormalizers("amount").withDecimalSeparator(',');
 * FieldRule.constant("crm");
 * FieldRule.expression(SqlExpression.parse("concat_ws(' ', first, last)", c -> TEXT, Map.of()));
 * FieldRule.from("phone").withNormalizers("phone").withRegionFrom("country")
 *     .withOnError(OnError.NULL);
 * }</pre>
 */
public final class FieldRule implements Serializable {
  /** Normalisers a rule may name. */
  public enum Normalizer {
    TRIM,
    LOWER,
    UPPER,
    TITLE,
    COLLAPSE_SPACES,
    EMAIL,
    PHONE,
    COUNTRY,
    AMOUNT,
    BOOLEAN;

    /** The normaliser named in a spec, e.g. {@code collapse_spaces}. */
    public static Normalizer named(String name) {
      try {
        return valueOf(name.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "unknown normaliser '" + name + "'; allowed: " + allowed());
      }
    }

    public static String allowed() {
      List<String> names = new ArrayList<>();
      for (Normalizer n : values()) {
        names.add(n.name().toLowerCase(Locale.ROOT));
      }
      return String.join(", ", names);
    }
  }

  /** What happens to a record when this field's value cannot be conformed. */
  public enum OnError {
    /** The whole record goes to the dead-letter output (the default). */
    DEAD_LETTER,
    /** The field is set to null and a warning finding records the raw value. */
    NULL,
    /** The field is set to null and its raw text is kept in {@code _raw_<field>}. */
    KEEP_RAW;

    public static OnError named(String name) {
      try {
        return valueOf(name.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "unknown on_error '" + name + "'; allowed: dead_letter, null, keep_raw");
      }
    }

    @Override
    public String toString() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** What a lookup does with a value its table lacks. */
  public enum OnMissing {
    /** The value cannot be conformed: the field's {@link OnError} applies (the default). */
    ERROR,
    /** The field is null. */
    NULL,
    /** The value passes on unchanged. */
    KEEP;

    public static OnMissing named(String name) {
      try {
        return valueOf(name.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "unknown on_missing '" + name + "'; allowed: error, null, keep");
      }
    }
  }

  /** A mapping-table step: the value is replaced by the table's {@code valueColumn}. */
  public record Lookup(LookupTable table, String keyColumn, String valueColumn, OnMissing onMissing)
      implements Serializable {}

  /** The column that keeps a field's raw text under {@link OnError#KEEP_RAW}. */
  public static String rawColumn(String field) {
    return "_raw_" + field;
  }

  /** Default region for phone numbers written without a country code. */
  public static final String DEFAULT_REGION = "US";

  /** Default zone for timestamps written without an offset. */
  public static final String DEFAULT_ZONE = "UTC";

  private String sourceColumn;
  private String constant;
  private SqlExpression expression;
  private String prefix;
  private List<Normalizer> normalizers = List.of();
  private String region = DEFAULT_REGION;
  private String regionFrom;
  private List<String> formats = List.of();
  private String zone = DEFAULT_ZONE;
  private char decimalSeparator = '.';
  private Lookup lookup;
  private OnError onError = OnError.DEAD_LETTER;

  private FieldRule() {}

  /** A copy with {@code change} applied: rules are immutable to their users. */
  private FieldRule with(Consumer<FieldRule> change) {
    FieldRule copy = new FieldRule();
    copy.sourceColumn = sourceColumn;
    copy.constant = constant;
    copy.expression = expression;
    copy.prefix = prefix;
    copy.normalizers = normalizers;
    copy.region = region;
    copy.regionFrom = regionFrom;
    copy.formats = formats;
    copy.zone = zone;
    copy.decimalSeparator = decimalSeparator;
    copy.lookup = lookup;
    copy.onError = onError;
    change.accept(copy);
    return copy;
  }

  /** A field read from a source column. */
  public static FieldRule from(String sourceColumn) {
    Objects.requireNonNull(sourceColumn, "sourceColumn");
    return new FieldRule().with(r -> r.sourceColumn = sourceColumn);
  }

  /** A field set to the same text for every record, cast to the field's type. */
  public static FieldRule constant(String value) {
    Objects.requireNonNull(value, "value");
    return new FieldRule().with(r -> r.constant = value);
  }

  /**
   * A field computed by a SQL expression over the record's columns ({@link SqlExpression}); its
   * value then goes through the rule's lookup, normalisers and the cast like a column's.
   */
  public static FieldRule expression(SqlExpression expression) {
    Objects.requireNonNull(expression, "expression");
    return new FieldRule().with(r -> r.expression = expression);
  }

  /** Prepends {@code prefix} to string values, e.g. to make ids unique across systems. */
  public FieldRule withPrefix(String prefix) {
    return with(r -> r.prefix = prefix);
  }

  /** Applies normalisers, in order, by name ({@link Normalizer#allowed()}). */
  public FieldRule withNormalizers(String... names) {
    List<Normalizer> list = new ArrayList<>();
    for (String name : names) {
      list.add(Normalizer.named(name));
    }
    return withNormalizers(list);
  }

  public FieldRule withNormalizers(List<Normalizer> list) {
    return with(r -> r.normalizers = List.copyOf(list));
  }

  /** The region (ISO 3166 alpha-2) for phone numbers without a country code. */
  public FieldRule withRegion(String region) {
    String upper = region.trim().toUpperCase(Locale.ROOT);
    if (!PhoneNumberUtil.getInstance().getSupportedRegions().contains(upper)) {
      throw new IllegalArgumentException("region '" + region + "' is not an ISO 3166 alpha-2 code");
    }
    return with(r -> r.region = upper);
  }

  /**
   * The column holding each record's country (a name or an ISO code), whose region reads phone
   * numbers without a country code; records whose country is empty or unknown use {@link
   * #withRegion the fixed region}.
   */
  public FieldRule withRegionFrom(String column) {
    Objects.requireNonNull(column, "column");
    return with(r -> r.regionFrom = column);
  }

  /** java.time patterns for dates and timestamps, tried in order. */
  public FieldRule withFormats(String... patterns) {
    return withFormats(List.of(patterns));
  }

  public FieldRule withFormats(List<String> patterns) {
    for (String pattern : patterns) {
      try {
        Normalizers.formatter(pattern);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("bad date format '" + pattern + "': " + e.getMessage());
      }
    }
    return with(r -> r.formats = List.copyOf(patterns));
  }

  /** The zone for timestamps written without an offset, e.g. {@code Europe/Berlin}. */
  public FieldRule withZone(String zoneId) {
    try {
      ZoneId.of(zoneId);
    } catch (DateTimeException e) {
      throw new IllegalArgumentException("unknown time zone '" + zoneId + "'");
    }
    return with(r -> r.zone = zoneId);
  }

  /**
   * Which of {@code .} and {@code ,} separates the fraction in numbers; with {@code ,} the other
   * ({@code .}) and spaces group thousands ({@code "1.234,5"} is 1234.5).
   */
  public FieldRule withDecimalSeparator(char separator) {
    if (separator != '.' && separator != ',') {
      throw new IllegalArgumentException(
          "decimal separator must be '.' or ',', got '" + separator + "'");
    }
    return with(r -> r.decimalSeparator = separator);
  }

  /** The decimal separator of {@code locale} (a language tag such as {@code de-DE}). */
  public FieldRule withLocale(String languageTag) {
    Locale locale = Locale.forLanguageTag(languageTag.trim());
    if (locale.getLanguage().isEmpty()) {
      throw new IllegalArgumentException(
          "locale '" + languageTag + "' is not a language tag such as de-DE or en-US");
    }
    char separator = DecimalFormatSymbols.getInstance(locale).getDecimalSeparator();
    return withDecimalSeparator(separator == ',' ? ',' : '.');
  }

  /**
   * Replaces the value by {@code valueColumn} of the {@code table} row whose {@code keyColumn}
   * matches it (ignoring case and surrounding spaces), before the normalisers run.
   */
  public FieldRule withLookup(
      LookupTable table, String keyColumn, String valueColumn, OnMissing onMissing) {
    for (String column : List.of(keyColumn, valueColumn)) {
      if (!table.hasColumn(column)) {
        throw new IllegalArgumentException(
            "lookup table '"
                + table.name()
                + "' has no column '"
                + column
                + "'; columns: "
                + table.columns());
      }
    }
    Lookup step = new Lookup(table, keyColumn, valueColumn, onMissing);
    return with(r -> r.lookup = step);
  }

  /** What a value that cannot be conformed does to its record ({@link OnError}). */
  public FieldRule withOnError(OnError onError) {
    Objects.requireNonNull(onError, "onError");
    return with(r -> r.onError = onError);
  }

  /** The source columns the rule reads: its column, its expression's, its region column. */
  public Set<String> columns() {
    Set<String> columns = new LinkedHashSet<>();
    if (sourceColumn != null) {
      columns.add(sourceColumn);
    }
    if (expression != null) {
      columns.addAll(expression.columns());
    }
    if (regionFrom != null) {
      columns.add(regionFrom);
    }
    return columns;
  }

  public SqlExpression expression() {
    return expression;
  }

  public String regionFrom() {
    return regionFrom;
  }

  public Lookup lookup() {
    return lookup;
  }

  public OnError onError() {
    return onError;
  }

  public String sourceColumn() {
    return sourceColumn;
  }

  public String constant() {
    return constant;
  }

  public String prefix() {
    return prefix;
  }

  public List<Normalizer> normalizers() {
    return normalizers;
  }

  public String region() {
    return region;
  }

  public List<String> formats() {
    return formats;
  }

  public String zone() {
    return zone;
  }

  public char decimalSeparator() {
    return decimalSeparator;
  }

  @Override
  public String toString() {
    StringBuilder s =
        new StringBuilder(
            sourceColumn != null
                ? sourceColumn
                : expression != null ? "expr " + expression : "constant");
    if (lookup != null) {
      s.append(" | lookup ").append(lookup.table().name()).append('.').append(lookup.valueColumn());
    }
    if (!normalizers.isEmpty()) {
      s.append(" | ").append(normalizers.toString().toLowerCase(Locale.ROOT));
    }
    if (prefix != null) {
      s.append(" | prefix '").append(prefix).append("'");
    }
    if (onError != OnError.DEAD_LETTER) {
      s.append(" | on_error ").append(onError);
    }
    return s.toString();
  }
}
