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
 * once on all the rows a run would load. Each kind is a small record of its own arguments; what
 * every rule has (its name in reports and what a failure does) is its {@link Basics}.
 *
 * <p>Row rules: {@link #notNull}, {@link #unique}, {@link #acceptedValues}, {@link #regex}, {@link
 * #range}, {@link #relationships}, {@link #expression}; those judged on each row alone are {@link
 * RowCheck}s. Dataset rules: {@link #rowCount}, {@link #freshness}, {@link #nullRate}, {@link
 * #duplicateRate}.
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
public sealed interface QualityRule extends Serializable
    permits QualityRule.RowCheck,
        QualityRule.Unique,
        QualityRule.Relationships,
        QualityRule.RowCount,
        QualityRule.Freshness,
        QualityRule.NullRate,
        QualityRule.DuplicateRate {

  /** The kinds of rule. */
  enum Kind {
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
  enum OnFailure {
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

  /** What every rule has: its name in reports and dead letters, and what a failure does. */
  record Basics(String name, OnFailure onFailure) implements Serializable {
    public Basics {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(onFailure, "onFailure");
    }

    /** The default name ({@code not_null(email)}) and failure action of a kind. */
    static Basics of(Kind kind, String column) {
      return new Basics(
          kind.specName() + "(" + (column == null ? "" : column) + ")",
          kind.isRowRule() ? OnFailure.DEAD_LETTER : OnFailure.FAIL);
    }
  }

  Basics basics();

  Kind kind();

  /** The same rule with other basics. */
  QualityRule with(Basics basics);

  /** The rule's name in reports and dead letters, e.g. {@code not_null(email)}. */
  default String name() {
    return basics().name();
  }

  default OnFailure onFailure() {
    return basics().onFailure();
  }

  /** The column the rule judges, or null (row counts, expressions). */
  default String column() {
    return null;
  }

  default QualityRule withName(String ruleName) {
    return with(new Basics(Objects.requireNonNull(ruleName), onFailure()));
  }

  default QualityRule withOnFailure(OnFailure action) {
    if (!kind().isRowRule() && (action == OnFailure.DEAD_LETTER || action == OnFailure.DROP)) {
      throw new IllegalArgumentException(
          "a dataset rule ("
              + kind().specName()
              + ") can only warn or fail, not "
              + action.specName());
    }
    return with(new Basics(name(), action));
  }

  /** A row rule judged on each row alone (not unique or relationships, which need other rows). */
  sealed interface RowCheck extends QualityRule
      permits NotNull, AcceptedValues, Regex, Range, ExpressionRule {
    /**
     * Checks a row.
     *
     * @return null when the row passes, else what is wrong with it
     */
    String check(Row row);
  }

  /** Fails rows where {@code column} is null. */
  record NotNull(Basics basics, String column) implements RowCheck {
    @Override
    public Kind kind() {
      return Kind.NOT_NULL;
    }

    @Override
    public NotNull with(Basics other) {
      return new NotNull(other, column);
    }

    @Override
    public String check(Row row) {
      return row.getValue(column) == null ? column + " is null" : null;
    }

    @Override
    public String toString() {
      return name();
    }
  }

  /** Fails every row whose non-null {@code column} value occurs in more than one row of the run. */
  record Unique(Basics basics, String column) implements QualityRule {
    @Override
    public Kind kind() {
      return Kind.UNIQUE;
    }

    @Override
    public Unique with(Basics other) {
      return new Unique(other, column);
    }

    @Override
    public String toString() {
      return name();
    }
  }

  /** Fails rows whose non-null {@code column} value, as text, is not one of {@code values}. */
  record AcceptedValues(Basics basics, String column, List<String> values) implements RowCheck {
    public AcceptedValues {
      values = List.copyOf(values);
    }

    @Override
    public Kind kind() {
      return Kind.ACCEPTED_VALUES;
    }

    @Override
    public AcceptedValues with(Basics other) {
      return new AcceptedValues(other, column, values);
    }

    @Override
    public String check(Row row) {
      Object value = row.getValue(column);
      return value == null || values.contains(text(value))
          ? null
          : column + " '" + text(value) + "' is not one of " + values;
    }

    @Override
    public String toString() {
      return name();
    }
  }

  /** Fails rows whose non-null {@code column} value, as text, does not match the pattern whole. */
  record Regex(Basics basics, String column, Pattern pattern) implements RowCheck {
    @Override
    public Kind kind() {
      return Kind.REGEX;
    }

    @Override
    public Regex with(Basics other) {
      return new Regex(other, column, pattern);
    }

    @Override
    public String check(Row row) {
      Object value = row.getValue(column);
      return value == null || pattern.matcher(text(value)).matches()
          ? null
          : column + " '" + text(value) + "' does not match " + pattern.pattern();
    }

    @Override
    public String toString() {
      return name();
    }
  }

  /**
   * Fails rows whose non-null {@code column} value is below {@code min} or above {@code max}
   * (inclusive bounds written as text in the value's type, either may be null).
   */
  record Range(Basics basics, String column, String min, String max) implements RowCheck {
    @Override
    public Kind kind() {
      return Kind.RANGE;
    }

    @Override
    public Range with(Basics other) {
      return new Range(other, column, min, max);
    }

    @Override
    public String check(Row row) {
      Object value = row.getValue(column);
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
    }

    @Override
    public String toString() {
      return name();
    }
  }

  /** Fails rows whose non-null {@code column} value is not a value of {@code model.field}. */
  record Relationships(Basics basics, String column, String referenceModel, String referenceField)
      implements QualityRule {
    @Override
    public Kind kind() {
      return Kind.RELATIONSHIPS;
    }

    @Override
    public Relationships with(Basics other) {
      return new Relationships(other, column, referenceModel, referenceField);
    }

    @Override
    public String toString() {
      return name();
    }
  }

  /** Fails rows for which the {@link Expression} is not true. */
  record ExpressionRule(Basics basics, Expression expression) implements RowCheck {
    @Override
    public Kind kind() {
      return Kind.EXPRESSION;
    }

    @Override
    public ExpressionRule with(Basics other) {
      return new ExpressionRule(other, expression);
    }

    @Override
    public String check(Row row) {
      return expression.test(row) ? null : "not true: " + expression;
    }

    @Override
    public String toString() {
      return name();
    }
  }

  /**
   * Fails when the run would load fewer than {@code minRows} or more than {@code maxRows} rows, or
   * fewer than {@code minRatioOfLastRun} times the last successful run's rows (each may be null).
   */
  record RowCount(Basics basics, Long minRows, Long maxRows, Double minRatioOfLastRun)
      implements QualityRule {
    @Override
    public Kind kind() {
      return Kind.ROW_COUNT;
    }

    @Override
    public RowCount with(Basics other) {
      return new RowCount(other, minRows, maxRows, minRatioOfLastRun);
    }

    /** Also fails below {@code ratio} times the rows of the last successful run. */
    public RowCount withMinRatioOfLastRun(double ratio) {
      return new RowCount(basics, minRows, maxRows, ratio);
    }

    @Override
    public String toString() {
      return name();
    }
  }

  /** Fails when the newest {@code column} value is older than {@code within} before the run. */
  record Freshness(Basics basics, String column, Duration within) implements QualityRule {
    @Override
    public Kind kind() {
      return Kind.FRESHNESS;
    }

    @Override
    public Freshness with(Basics other) {
      return new Freshness(other, column, within);
    }

    @Override
    public String toString() {
      return name();
    }
  }

  /** Fails when more than {@code max} (0 to 1) of the rows have a null {@code column}. */
  record NullRate(Basics basics, String column, double max) implements QualityRule {
    @Override
    public Kind kind() {
      return Kind.NULL_RATE;
    }

    @Override
    public NullRate with(Basics other) {
      return new NullRate(other, column, max);
    }

    @Override
    public String toString() {
      return name();
    }
  }

  /**
   * Fails when more than {@code max} (0 to 1) of the non-null {@code column} values repeat an
   * earlier one.
   */
  record DuplicateRate(Basics basics, String column, double max) implements QualityRule {
    @Override
    public Kind kind() {
      return Kind.DUPLICATE_RATE;
    }

    @Override
    public DuplicateRate with(Basics other) {
      return new DuplicateRate(other, column, max);
    }

    @Override
    public String toString() {
      return name();
    }
  }

  /** Fails rows where {@code column} is null. */
  static NotNull notNull(String column) {
    return new NotNull(Basics.of(Kind.NOT_NULL, column), column);
  }

  /** Fails every row whose non-null {@code column} value occurs in more than one row of the run. */
  static Unique unique(String column) {
    return new Unique(Basics.of(Kind.UNIQUE, column), column);
  }

  /** Fails rows whose non-null {@code column} value, as text, is not one of {@code allowed}. */
  static AcceptedValues acceptedValues(String column, List<String> allowed) {
    return new AcceptedValues(Basics.of(Kind.ACCEPTED_VALUES, column), column, allowed);
  }

  /**
   * Fails rows whose non-null {@code column} value, as text, does not match {@code regex} whole.
   */
  static Regex regex(String column, String regex) {
    return new Regex(Basics.of(Kind.REGEX, column), column, Pattern.compile(regex));
  }

  /**
   * Fails rows whose non-null {@code column} value is below {@code min} or above {@code max}
   * (inclusive bounds, either may be null): numbers, or ISO dates and timestamps.
   */
  static Range range(String column, String min, String max) {
    return new Range(Basics.of(Kind.RANGE, column), column, min, max);
  }

  /** Fails rows whose non-null {@code column} value is not a value of {@code model.field}. */
  static Relationships relationships(String column, String model, String field) {
    return new Relationships(Basics.of(Kind.RELATIONSHIPS, column), column, model, field);
  }

  /** Fails rows for which the {@link Expression} is not true. */
  static ExpressionRule expression(Expression expression) {
    return new ExpressionRule(
        new Basics("expression(" + expression + ")", OnFailure.DEAD_LETTER), expression);
  }

  /** Fails when the run would load fewer than {@code min} or more than {@code max} rows. */
  static RowCount rowCount(Long min, Long max) {
    return new RowCount(new Basics("row_count", OnFailure.FAIL), min, max, null);
  }

  /**
   * Fails when the newest {@code column} value is older than {@code within} before the run's clock.
   */
  static Freshness freshness(String column, Duration within) {
    return new Freshness(Basics.of(Kind.FRESHNESS, column), column, within);
  }

  /** Fails when more than {@code max} (0 to 1) of the rows have a null {@code column}. */
  static NullRate nullRate(String column, double max) {
    return new NullRate(Basics.of(Kind.NULL_RATE, column), column, max);
  }

  /**
   * Fails when more than {@code max} (0 to 1) of the non-null {@code column} values repeat an
   * earlier one.
   */
  static DuplicateRate duplicateRate(String column, double max) {
    return new DuplicateRate(Basics.of(Kind.DUPLICATE_RATE, column), column, max);
  }

  /** A value as text: decimals without exponent. */
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
}
