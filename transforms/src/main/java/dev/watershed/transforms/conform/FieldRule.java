package dev.watershed.transforms.conform;

import com.google.i18n.phonenumbers.PhoneNumberUtil;
import java.io.Serializable;
import java.time.DateTimeException;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * How one canonical field gets its value: from a source column or a constant, then normalisers,
 * then the cast to the field's declared type, then an optional prefix.
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

  /** Default region for phone numbers written without a country code. */
  public static final String DEFAULT_REGION = "US";

  /** Default zone for timestamps written without an offset. */
  public static final String DEFAULT_ZONE = "UTC";

  private final String sourceColumn;
  private final String constant;
  private final String prefix;
  private final List<Normalizer> normalizers;
  private final String region;
  private final List<String> formats;
  private final String zone;
  private final char decimalSeparator;

  private FieldRule(
      String sourceColumn,
      String constant,
      String prefix,
      List<Normalizer> normalizers,
      String region,
      List<String> formats,
      String zone,
      char decimalSeparator) {
    this.sourceColumn = sourceColumn;
    this.constant = constant;
    this.prefix = prefix;
    this.normalizers = List.copyOf(normalizers);
    this.region = region;
    this.formats = List.copyOf(formats);
    this.zone = zone;
    this.decimalSeparator = decimalSeparator;
  }

  /** A field read from a source column. */
  public static FieldRule from(String sourceColumn) {
    Objects.requireNonNull(sourceColumn, "sourceColumn");
    return new FieldRule(
        sourceColumn, null, null, List.of(), DEFAULT_REGION, List.of(), DEFAULT_ZONE, '.');
  }

  /** A field set to the same text for every record, cast to the field's type. */
  public static FieldRule constant(String value) {
    Objects.requireNonNull(value, "value");
    return new FieldRule(
        null, value, null, List.of(), DEFAULT_REGION, List.of(), DEFAULT_ZONE, '.');
  }

  /** Prepends {@code prefix} to string values, e.g. to make ids unique across systems. */
  public FieldRule withPrefix(String prefix) {
    return new FieldRule(
        sourceColumn, constant, prefix, normalizers, region, formats, zone, decimalSeparator);
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
    return new FieldRule(
        sourceColumn, constant, prefix, list, region, formats, zone, decimalSeparator);
  }

  /** The region (ISO 3166 alpha-2) for phone numbers without a country code. */
  public FieldRule withRegion(String region) {
    String upper = region.trim().toUpperCase(Locale.ROOT);
    if (!PhoneNumberUtil.getInstance().getSupportedRegions().contains(upper)) {
      throw new IllegalArgumentException("region '" + region + "' is not an ISO 3166 alpha-2 code");
    }
    return new FieldRule(
        sourceColumn, constant, prefix, normalizers, upper, formats, zone, decimalSeparator);
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
    return new FieldRule(
        sourceColumn, constant, prefix, normalizers, region, patterns, zone, decimalSeparator);
  }

  /** The zone for timestamps written without an offset, e.g. {@code Europe/Berlin}. */
  public FieldRule withZone(String zoneId) {
    try {
      ZoneId.of(zoneId);
    } catch (DateTimeException e) {
      throw new IllegalArgumentException("unknown time zone '" + zoneId + "'");
    }
    return new FieldRule(
        sourceColumn, constant, prefix, normalizers, region, formats, zoneId, decimalSeparator);
  }

  /** Which of {@code .} and {@code ,} separates the fraction in amounts. */
  public FieldRule withDecimalSeparator(char separator) {
    if (separator != '.' && separator != ',') {
      throw new IllegalArgumentException(
          "decimal separator must be '.' or ',', got '" + separator + "'");
    }
    return new FieldRule(
        sourceColumn, constant, prefix, normalizers, region, formats, zone, separator);
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
    StringBuilder s = new StringBuilder(sourceColumn != null ? sourceColumn : "constant");
    if (!normalizers.isEmpty()) {
      s.append(" | ").append(normalizers.toString().toLowerCase(Locale.ROOT));
    }
    if (prefix != null) {
      s.append(" | prefix '").append(prefix).append("'");
    }
    return s.toString();
  }
}
