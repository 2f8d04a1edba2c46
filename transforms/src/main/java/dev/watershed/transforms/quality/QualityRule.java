package dev.watershed.transforms.quality;

import java.io.Serializable;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;
import org.apache.beam.sdk.values.Row;

/**
 * One data quality rule of a model: a row rule, checked on every row, or a dataset rule, checked
 * once on all the rows a run would load.
 *
 * <p>Row rules: {@link #notNull}, {@link #unique}, {@link #acceptedValues}, {@link #regex}, {@link
 * #range}, {@link #relationships}, {@link #expression}. Dataset rules: {@link #rowCount}, {@link
 * #freshness}, {@link #nullRate}, {@link #duplicateRate}.
 *
 * <p>What a failure does is the rule's {@link OnFailure}: row rules default to {@link
 * OnFailure#DEAD_LETTER}, dataset rules to {@link OnFailure#FAIL}, which blocks every load of the
 * run before anything is committed.
 *
 * <pre>{@code
 * QualityRule.notNull("email");
 * QualityRule.acceptedValues("plan", List.of("free", "pro")).withOnFailure(OnFailure.WARN);
 * QualityRule.rowCount(1000L, null).withMinRatioOfLastRun(0.8);
 * QualityRule.freshness("updated_at", Duration.ofDays(1));
 * }</pre>
 */
public final class QualityRule implements Serializable {
  /** The kinds of rule. */
  public enum Kind {
    NOT_NULL,
    UNIQUE,
    ACCEPTED_VALUES,
    REGEX,
    RANGE,
    RELATIONSHIPS,
    EXPRESSION,
    ROW_COUNT,
    FRESHNESS,
    NULL_RATE,
    DUPLICATE_RATE;

    /** The kind's name in a spec, e.g. {@code not_null}. */
    public String specName() {
      return name().toLowerCase(Locale.ROOT);
    }

    public boolean isRowRule() {
      return ordinal() <= EXPRESSION.ordinal();
    }
  }

  /** What a failing rule does. */
  public enum OnFailure {
    /** The failing row goes to the dead-letter output (row rules). */
    DEAD_LETTER,
    /** The failing row is dropped and counted (row rules). */
    DROP,
    /** The failure is counted and reported; the row is kept. */
    WARN,
    /** The run fails and no load is committed. */
    FAIL;

    public static OnFailure named(String name) {
      try {
        return valueOf(name.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "unknown on_failure '" + name + "'; allowed: dead_letter, drop, warn, fail");
      }
    }

    public String specName() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private final Kind kind;
  private final String name;
  private final String column;
  private final List<String> values;
  private final String pattern;
  private final String min;
  private final String max;
  private final Expression expression;
  private final String referenceModel;
  private final String referenceField;
  private final Double minRatioOfLastRun;
  private final Duration within;
  private final Double maxRate;
  private final OnFailure onFailure;
  private transient Pattern compiled;

  private QualityRule(
      Kind kind,
      String name,
      String column,
      List<String> values,
      String pattern,
      String min,
      String max,
      Expression expression,
      String referenceModel,
      String referenceField,
      Double minRatioOfLastRun,
      Duration within,
      Double maxRate,
      OnFailure onFailure) {
    this.kind = kind;
    this.name = name;
    this.column = column;
    this.values = values == null ? List.of() : List.copyOf(values);
    this.pattern = pattern;
    this.min = min;
    this.max = max;
    this.expression = expression;
    this.referenceModel = referenceModel;
    this.referenceField = referenceField;
    this.minRatioOfLastRun = minRatioOfLastRun;
    this.within = within;
    this.maxRate = maxRate;
    this.onFailure = onFailure;
  }

  private static QualityRule of(Kind kind, String column) {
    return new QualityRule(
        kind,
        kind.specName() + "(" + (column == null ? "" : column) + ")",
        column,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        kind.isRowRule() ? OnFailure.DEAD_LETTER : OnFailure.FAIL);
  }

  private QualityRule with(
      String name,
      List<String> values,
      String pattern,
      String min,
      String max,
      Expression expression,
      String referenceModel,
      String referenceField,
      Double ratio,
      Duration within,
      Double maxRate,
      OnFailure onFailure) {
    return new QualityRule(
        kind,
        name,
        column,
        values,
        pattern,
        min,
        max,
        expression,
        referenceModel,
        referenceField,
        ratio,
        within,
        maxRate,
        onFailure);
  }

  /** Fails rows where {@code column} is null. */
  public static QualityRule notNull(String column) {
    return of(Kind.NOT_NULL, column);
  }

  /** Fails every row whose non-null {@code column} value occurs in more than one row of the run. */
  public static QualityRule unique(String column) {
    return of(Kind.UNIQUE, column);
  }

  /** Fails rows whose non-null {@code column} value, as text, is not one of {@code allowed}. */
  public static QualityRule acceptedValues(String column, List<String> allowed) {
    QualityRule rule = of(Kind.ACCEPTED_VALUES, column);
    return rule.with(
        rule.name, allowed, null, null, null, null, null, null, null, null, null, rule.onFailure);
  }

  /**
   * Fails rows whose non-null {@code column} value, as text, does not match {@code regex} whole.
   */
  public static QualityRule regex(String column, String regex) {
    Pattern.compile(regex);
    QualityRule rule = of(Kind.REGEX, column);
    return rule.with(
        rule.name, null, regex, null, null, null, null, null, null, null, null, rule.onFailure);
  }

  /**
   * Fails rows whose non-null {@code column} value is below {@code min} or above {@code max}
   * (inclusive bounds, either may be null): numbers, or ISO dates and timestamps.
   */
  public static QualityRule range(String column, String min, String max) {
    QualityRule rule = of(Kind.RANGE, column);
    return rule.with(
        rule.name, null, null, min, max, null, null, null, null, null, null, rule.onFailure);
  }

  /** Fails rows whose non-null {@code column} value is not a value of {@code model.field}. */
  public static QualityRule relationships(String column, String model, String field) {
    QualityRule rule = of(Kind.RELATIONSHIPS, column);
    return rule.with(
        rule.name, null, null, null, null, null, model, field, null, null, null, rule.onFailure);
  }

  /** Fails rows for which the {@link Expression} is not true. */
  public static QualityRule expression(Expression expression) {
    QualityRule rule = of(Kind.EXPRESSION, null);
    return rule.with(
        "expression(" + expression + ")",
        null,
        null,
        null,
        null,
        expression,
        null,
        null,
        null,
        null,
        null,
        rule.onFailure);
  }

  /** Fails when the run would load fewer than {@code min} or more than {@code max} rows. */
  public static QualityRule rowCount(Long min, Long max) {
    QualityRule rule = of(Kind.ROW_COUNT, null);
    return rule.with(
        "row_count",
        null,
        null,
        min == null ? null : min.toString(),
        max == null ? null : max.toString(),
        null,
        null,
        null,
        null,
        null,
        null,
        rule.onFailure);
  }

  /**
   * With {@link #rowCount}: also fails below {@code ratio} times the rows of the last successful
   * run.
   */
  public QualityRule withMinRatioOfLastRun(double ratio) {
    return with(
        name,
        values,
        pattern,
        min,
        max,
        expression,
        referenceModel,
        referenceField,
        ratio,
        within,
        maxRate,
        onFailure);
  }

  /**
   * Fails when the newest {@code column} value is older than {@code within} before the run's clock.
   */
  public static QualityRule freshness(String column, Duration within) {
    QualityRule rule = of(Kind.FRESHNESS, column);
    return rule.with(
        rule.name, null, null, null, null, null, null, null, null, within, null, rule.onFailure);
  }

  /** Fails when more than {@code max} (0 to 1) of the rows have a null {@code column}. */
  public static QualityRule nullRate(String column, double max) {
    QualityRule rule = of(Kind.NULL_RATE, column);
    return rule.with(
        rule.name, null, null, null, null, null, null, null, null, null, max, rule.onFailure);
  }

  /**
   * Fails when more than {@code max} (0 to 1) of the non-null {@code column} values repeat an
   * earlier one.
   */
  public static QualityRule duplicateRate(String column, double max) {
    QualityRule rule = of(Kind.DUPLICATE_RATE, column);
    return rule.with(
        rule.name, null, null, null, null, null, null, null, null, null, max, rule.onFailure);
  }

  public QualityRule withOnFailure(OnFailure action) {
    if (!kind.isRowRule() && (action == OnFailure.DEAD_LETTER || action == OnFailure.DROP)) {
      throw new IllegalArgumentException(
          "a dataset rule ("
              + kind.specName()
              + ") can only warn or fail, not "
              + action.specName());
    }
    return with(
        name,
        values,
        pattern,
        min,
        max,
        expression,
        referenceModel,
        referenceField,
        minRatioOfLastRun,
        within,
        maxRate,
        action);
  }

  /** The rule's name in reports and dead letters, e.g. {@code not_null(email)}. */
  public QualityRule withName(String ruleName) {
    return with(
        Objects.requireNonNull(ruleName),
        values,
        pattern,
        min,
        max,
        expression,
        referenceModel,
        referenceField,
        minRatioOfLastRun,
        within,
        maxRate,
        onFailure);
  }

  public Kind kind() {
    return kind;
  }

  public String name() {
    return name;
  }

  public String column() {
    return column;
  }

  public OnFailure onFailure() {
    return onFailure;
  }

  public String referenceModel() {
    return referenceModel;
  }

  public String referenceField() {
    return referenceField;
  }

  Long minRows() {
    return min == null ? null : Long.valueOf(min);
  }

  Long maxRows() {
    return max == null ? null : Long.valueOf(max);
  }

  Double minRatioOfLastRun() {
    return minRatioOfLastRun;
  }

  Duration within() {
    return within;
  }

  Double maxRate() {
    return maxRate;
  }

  /**
   * Checks a row against a per-row rule (not unique or relationships, which need other rows).
   *
   * @return null when the row passes, else what is wrong with it
   */
  public String check(Row row) {
    Object value = column == null ? null : row.getValue(column);
    switch (kind) {
      case NOT_NULL:
        return value == null ? column + " is null" : null;
      case ACCEPTED_VALUES:
        return value == null || values.contains(text(value))
            ? null
            : column + " '" + text(value) + "' is not one of " + values;
      case REGEX:
        if (compiled == null) {
          compiled = Pattern.compile(pattern);
        }
        return value == null || compiled.matcher(text(value)).matches()
            ? null
            : column + " '" + text(value) + "' does not match " + pattern;
      case RANGE:
        if (value == null) {
          return null;
        }
        if (min != null && compareToBound(value, min) < 0) {
          return column + " " + text(value) + " is below the minimum " + min;
        }
        if (max != null && compareToBound(value, max) > 0) {
          return column + " " + text(value) + " is above the maximum " + max;
        }
        return null;
      case EXPRESSION:
        return expression.test(row) ? null : "not true: " + expression;
      default:
        throw new IllegalStateException(kind + " is not checked row by row");
    }
  }

  static String text(Object value) {
    return value instanceof BigDecimal d ? d.toPlainString() : String.valueOf(value);
  }

  /** Compares a value with a bound written as text in the value's own type. */
  static int compareToBound(Object value, String bound) {
    if (value instanceof BigDecimal d) {
      return d.compareTo(new BigDecimal(bound));
    }
    if (value instanceof Integer || value instanceof Long) {
      return BigDecimal.valueOf(((Number) value).longValue()).compareTo(new BigDecimal(bound));
    }
    if (value instanceof LocalDate date) {
      return date.compareTo(LocalDate.parse(bound));
    }
    if (value instanceof Instant instant) {
      Instant limit =
          bound.length() == 10
              ? LocalDate.parse(bound).atStartOfDay(ZoneOffset.UTC).toInstant()
              : Instant.parse(bound);
      return instant.compareTo(limit);
    }
    return text(value).compareTo(bound);
  }

  @Override
  public String toString() {
    return name;
  }
}
