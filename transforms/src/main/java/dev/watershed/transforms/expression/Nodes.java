package dev.watershed.transforms.expression;

import java.io.Serializable;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.ResolverStyle;
import java.time.temporal.ChronoField;
import java.time.temporal.ChronoUnit;
import java.time.temporal.IsoFields;
import java.time.temporal.TemporalAccessor;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The evaluated form of a {@link SqlExpression}: a tree of serializable nodes, and the functions
 * they may call ({@link Fn}). Values are String, BigDecimal, Boolean, LocalDate, Instant or null.
 */
final class Nodes {
  private Nodes() {}

  interface Node extends Serializable {
    Object eval(Function<String, Object> row);

    ValueType type();
  }

  record Const(Object value, ValueType type) implements Node {
    @Override
    public Object eval(Function<String, Object> row) {
      return value;
    }
  }

  record Column(String name, ValueType type) implements Node {
    @Override
    public Object eval(Function<String, Object> row) {
      return canonical(row.apply(name));
    }
  }

  record Case(List<Node> whens, List<Node> thens, Node otherwise, ValueType type) implements Node {
    @Override
    public Object eval(Function<String, Object> row) {
      for (int i = 0; i < whens.size(); i++) {
        if (Boolean.TRUE.equals(bool(whens.get(i).eval(row)))) {
          return thens.get(i).eval(row);
        }
      }
      return otherwise.eval(row);
    }
  }

  /** AND or OR over two or more parts, with SQL's three-valued logic. */
  record Logic(boolean and, List<Node> parts) implements Node {
    @Override
    public Object eval(Function<String, Object> row) {
      boolean sawNull = false;
      for (Node part : parts) {
        Boolean value = bool(part.eval(row));
        if (value == null) {
          sawNull = true;
        } else if (value != and) {
          return value;
        }
      }
      return sawNull ? null : and;
    }

    @Override
    public ValueType type() {
      return ValueType.BOOLEAN;
    }
  }

  record Not(Node inner) implements Node {
    @Override
    public Object eval(Function<String, Object> row) {
      Boolean value = bool(inner.eval(row));
      return value == null ? null : !value;
    }

    @Override
    public ValueType type() {
      return ValueType.BOOLEAN;
    }
  }

  record IsNull(Node inner, boolean negated) implements Node {
    @Override
    public Object eval(Function<String, Object> row) {
      return (inner.eval(row) == null) != negated;
    }

    @Override
    public ValueType type() {
      return ValueType.BOOLEAN;
    }
  }

  /** How a comparison reads its two sides, decided from their types when parsed. */
  static Compare.As compareAs(ValueType left, ValueType right) {
    Set<ValueType> both = EnumSet.of(left, right);
    if (both.contains(ValueType.NUMBER)) {
      requireOnly(both, ValueType.NUMBER, left, right);
      return Compare.As.NUMBER;
    }
    if (both.contains(ValueType.TIMESTAMP)) {
      requireOnly(both, ValueType.TIMESTAMP, left, right);
      return Compare.As.TIMESTAMP;
    }
    if (both.contains(ValueType.DATE)) {
      requireOnly(both, ValueType.DATE, left, right);
      return Compare.As.DATE;
    }
    if (both.contains(ValueType.BOOLEAN)) {
      requireOnly(both, ValueType.BOOLEAN, left, right);
      return Compare.As.BOOLEAN;
    }
    return Compare.As.TEXT;
  }

  private static void requireOnly(
      Set<ValueType> both, ValueType kind, ValueType left, ValueType right) {
    for (ValueType type : both) {
      boolean ok =
          type == kind
              || type == ValueType.TEXT
              || type == ValueType.ANY
              || (kind == ValueType.TIMESTAMP && type == ValueType.DATE);
      if (!ok) {
        throw new IllegalArgumentException("cannot compare " + left + " with " + right);
      }
    }
  }

  record Compare(String op, Node left, Node right, As as) implements Node {
    enum As {
      NUMBER,
      TEXT,
      DATE,
      TIMESTAMP,
      BOOLEAN
    }

    @Override
    public Object eval(Function<String, Object> row) {
      Object l = left.eval(row);
      Object r = right.eval(row);
      if (l == null || r == null) {
        return null;
      }
      int c;
      switch (as) {
        case NUMBER:
          c = number(l).compareTo(number(r));
          break;
        case DATE:
          c = date(l).compareTo(date(r));
          break;
        case TIMESTAMP:
          c = timestamp(l).compareTo(timestamp(r));
          break;
        case BOOLEAN:
          c = bool(l).compareTo(bool(r));
          break;
        default:
          c = text(l).compareTo(text(r));
      }
      switch (op) {
        case "=":
          return c == 0;
        case "<>":
          return c != 0;
        case "<":
          return c < 0;
        case "<=":
          return c <= 0;
        case ">":
          return c > 0;
        default:
          return c >= 0;
      }
    }

    @Override
    public ValueType type() {
      return ValueType.BOOLEAN;
    }
  }

  /**
   * SQL LIKE: {@code %} any run of characters, {@code _} one character. A literal pattern is
   * compiled once ({@code compiled}); any other is compiled per row.
   */
  record Like(Node value, Node pattern, Pattern compiled) implements Node {
    Like(Node value, Node pattern) {
      this(
          value,
          pattern,
          pattern instanceof Const c && c.value() != null ? likePattern(text(c.value())) : null);
    }

    @Override
    public Object eval(Function<String, Object> row) {
      Object v = value.eval(row);
      if (v == null) {
        return null;
      }
      if (compiled != null) {
        return compiled.matcher(text(v)).matches();
      }
      Object p = pattern.eval(row);
      return p == null ? null : likePattern(text(p)).matcher(text(v)).matches();
    }

    @Override
    public ValueType type() {
      return ValueType.BOOLEAN;
    }
  }

  static Pattern likePattern(String like) {
    StringBuilder regex = new StringBuilder();
    for (char c : like.toCharArray()) {
      if (c == '%') {
        regex.append(".*");
      } else if (c == '_') {
        regex.append('.');
      } else {
        regex.append(Pattern.quote(String.valueOf(c)));
      }
    }
    return Pattern.compile(regex.toString(), Pattern.DOTALL);
  }

  record Arithmetic(String op, Node left, Node right) implements Node {
    @Override
    public Object eval(Function<String, Object> row) {
      Object l = left.eval(row);
      Object r = right.eval(row);
      if (l == null || r == null) {
        return null;
      }
      BigDecimal a = number(l);
      BigDecimal b = number(r);
      switch (op) {
        case "+":
          return a.add(b);
        case "-":
          return a.subtract(b);
        case "*":
          return a.multiply(b);
        default:
          if (b.signum() == 0) {
            throw new ExpressionException("division by zero (" + text(l) + " " + op + " 0)");
          }
          if (op.equals("/")) {
            return a.divide(b, MathContext.DECIMAL64).stripTrailingZeros();
          }
          return a.remainder(b);
      }
    }

    @Override
    public ValueType type() {
      return ValueType.NUMBER;
    }
  }

  record Cast(Node value, ValueType type, int scale) implements Node {
    @Override
    public Object eval(Function<String, Object> row) {
      Object v = value.eval(row);
      if (v == null) {
        return null;
      }
      switch (type) {
        case TEXT:
          return text(v);
        case NUMBER:
          BigDecimal n = number(v);
          return scale < 0 ? n : n.setScale(scale, RoundingMode.HALF_UP);
        case BOOLEAN:
          return bool(v);
        case DATE:
          return date(v);
        default:
          return timestamp(v);
      }
    }
  }

  /** A lookup of the key's value in a table's index, resolved when parsed. */
  record Lookup(LookupTable.Index index, Node key) implements Node {
    @Override
    public Object eval(Function<String, Object> row) {
      Object k = key.eval(row);
      return k == null ? null : index.get(text(k));
    }

    @Override
    public ValueType type() {
      return ValueType.TEXT;
    }
  }

  /** A call of a listed function, its arguments evaluated first. */
  static final class Call implements Node {
    private final Fn fn;
    private final List<Node> args;
    private final ValueType type;
    private transient Object prepared;

    Call(Fn fn, List<Node> args, ValueType type) {
      this.fn = fn;
      this.args = List.copyOf(args);
      this.type = fn.resultFor(args, type);
    }

    @Override
    public Object eval(Function<String, Object> row) {
      Object[] values = new Object[args.size()];
      for (int i = 0; i < values.length; i++) {
        values[i] = args.get(i).eval(row);
        if (values[i] == null && fn.nullGivesNull) {
          return null;
        }
      }
      if (fn.result == null) {
        // coalesce, greatest, least, nullif: arguments read as the type they share.
        for (int i = 0; i < values.length; i++) {
          values[i] = as(values[i], type);
        }
      }
      if (prepared == null && fn.constantArgs != null) {
        prepared = fn.prepare(values);
      }
      return fn.apply(values, prepared);
    }

    @Override
    public ValueType type() {
      return type;
    }
  }

  /**
   * The functions an expression may call. Each declares its arity, the type of each argument (the
   * last repeats), its result (null: the type its arguments share) and whether a null argument
   * makes the result null.
   */
  enum Fn {
    UPPER(1, 1, types(ValueType.TEXT), ValueType.TEXT) {
      @Override
      Object apply(Object[] a, Object prepared) {
        return text(a[0]).toUpperCase(Locale.ROOT);
      }
    },
    LOWER(1, 1, types(ValueType.TEXT), ValueType.TEXT) {
      @Override
      Object apply(Object[] a, Object prepared) {
        return text(a[0]).toLowerCase(Locale.ROOT);
      }
    },
    INITCAP(1, 1, types(ValueType.TEXT), ValueType.TEXT) {
      @Override
      Object apply(Object[] a, Object prepared) {
        String s = text(a[0]);
        StringBuilder out = new StringBuilder(s.length());
        boolean start = true;
        for (char c : s.toCharArray()) {
          out.append(start ? Character.toTitleCase(c) : Character.toLowerCase(c));
          start = !Character.isLetterOrDigit(c);
        }
        return out.toString();
      }
    },
    LTRIM(1, 1, types(ValueType.TEXT), ValueType.TEXT) {
      @Override
      Object apply(Object[] a, Object prepared) {
        return text(a[0]).replaceAll("^\\s+", "");
      }
    },
    RTRIM(1, 1, types(ValueType.TEXT), ValueType.TEXT) {
      @Override
      Object apply(Object[] a, Object prepared) {
        return text(a[0]).replaceAll("\\s+$", "");
      }
    },
    /** TRIM([BOTH|LEADING|TRAILING] chars FROM value), as Calcite parses it. */
    TRIM_CHARS(3, 3, types(ValueType.TEXT), ValueType.TEXT) {
      @Override
      Object apply(Object[] a, Object prepared) {
        String flag = text(a[0]);
        String chars = text(a[1]);
        String s = text(a[2]);
        int from = 0;
        int to = s.length();
        if (!flag.equals("TRAILING")) {
          while (from < to && chars.indexOf(s.charAt(from)) >= 0) {
            from++;
          }
        }
        if (!flag.equals("LEADING")) {
          while (to > from && chars.indexOf(s.charAt(to - 1)) >= 0) {
            to--;
          }
        }
        return s.substring(from, to);
      }
    },
    LENGTH(1, 1, types(ValueType.TEXT), ValueType.NUMBER) {
      @Override
      Object apply(Object[] a, Object prepared) {
        String s = text(a[0]);
        return BigDecimal.valueOf(s.codePointCount(0, s.length()));
      }
    },
    SUBSTRING(2, 3, types(ValueType.TEXT, ValueType.NUMBER), ValueType.TEXT) {
      @Override
      Object apply(Object[] a, Object prepared) {
        String s = text(a[0]);
        // SQL counts from 1; a start before 1 shortens the length, as in PostgreSQL.
        long start = number(a[1]).longValue();
        long end = a.length > 2 ? start + number(a[2]).longValue() : Long.MAX_VALUE;
        if (a.length > 2 && number(a[2]).signum() < 0) {
          throw new ExpressionException("substring: negative length " + text(a[2]));
        }
        int from = (int) Math.max(0, Math.min(s.length(), start - 1));
        int to = (int) Math.max(from, Math.min(s.length(), end - 1));
        return s.substring(from, to);
      }
    },
    LEFT(2, 2, types(ValueType.TEXT, ValueType.NUMBER), ValueType.TEXT) {
      @Override
      Object apply(Object[] a, Object prepared) {
        String s = text(a[0]);
        int n = (int) Math.max(0, Math.min(s.length(), number(a[1]).longValue()));
        return s.substring(0, n);
      }
    },
    RIGHT(2, 2, types(ValueType.TEXT, ValueType.NUMBER), ValueType.TEXT) {
      @Override
      Object apply(Object[] a, Object prepared) {
        String s = text(a[0]);
        int n = (int) Math.max(0, Math.min(s.length(), number(a[1]).longValue()));
        return s.substring(s.length() - n);
      }
    },
    REPLACE(3, 3, types(ValueType.TEXT), ValueType.TEXT) {
      @Override
      Object apply(Object[] a, Object prepared) {
        return text(a[0]).replace(text(a[1]), text(a[2]));
      }
    },
    LPAD(2, 3, types(ValueType.TEXT, ValueType.NUMBER, ValueType.TEXT), ValueType.TEXT) {
      @Override
      Object apply(Object[] a, Object prepared) {
        return pad(a, true);
      }
    },
    RPAD(2, 3, types(ValueType.TEXT, ValueType.NUMBER, ValueType.TEXT), ValueType.TEXT) {
      @Override
      Object apply(Object[] a, Object prepared) {
        return pad(a, false);
      }
    },
    /** concat(a, b, ...): nulls are skipped. */
    CONCAT(1, Integer.MAX_VALUE, types(ValueType.ANY), ValueType.TEXT, false) {
      @Override
      Object apply(Object[] a, Object prepared) {
        StringBuilder out = new StringBuilder();
        for (Object v : a) {
          if (v != null) {
            out.append(text(v));
          }
        }
        return out.toString();
      }
    },
    /** a || b: null when either is null, as in SQL. */
    CONCAT_STRICT(2, 2, types(ValueType.ANY), ValueType.TEXT) {
      @Override
      Object apply(Object[] a, Object prepared) {
        return text(a[0]) + text(a[1]);
      }
    },
    /** concat_ws(separator, a, b, ...): nulls and empty texts are skipped. */
    CONCAT_WS(2, Integer.MAX_VALUE, types(ValueType.TEXT, ValueType.ANY), ValueType.TEXT, false) {
      @Override
      Object apply(Object[] a, Object prepared) {
        if (a[0] == null) {
          return null;
        }
        List<String> parts = new ArrayList<>();
        for (int i = 1; i < a.length; i++) {
          if (a[i] != null && !text(a[i]).isEmpty()) {
            parts.add(text(a[i]));
          }
        }
        return String.join(text(a[0]), parts);
      }
    },
    SPLIT_PART(3, 3, types(ValueType.TEXT, ValueType.TEXT, ValueType.NUMBER), ValueType.TEXT) {
      @Override
      Object apply(Object[] a, Object prepared) {
        String[] parts = text(a[0]).split(Pattern.quote(text(a[1])), -1);
        int n = number(a[2]).intValue();
        if (n == 0) {
          throw new ExpressionException("split_part: the part number counts from 1");
        }
        int index = n > 0 ? n - 1 : parts.length + n;
        return index >= 0 && index < parts.length ? parts[index] : "";
      }
    },
    STRPOS(2, 2, types(ValueType.TEXT), ValueType.NUMBER) {
      @Override
      Object apply(Object[] a, Object prepared) {
        return BigDecimal.valueOf(text(a[0]).indexOf(text(a[1])) + 1);
      }
    },
    /** POSITION(needle IN haystack), as Calcite parses it. */
    POSITION(2, 2, types(ValueType.TEXT), ValueType.NUMBER) {
      @Override
      Object apply(Object[] a, Object prepared) {
        return BigDecimal.valueOf(text(a[1]).indexOf(text(a[0])) + 1);
      }
    },
    /** regexp_replace(value, 'java regex', replacement): every match replaced. */
    REGEXP_REPLACE(3, 3, types(ValueType.TEXT), ValueType.TEXT, true, 1) {
      @Override
      Object prepare(Object[] a) {
        return regex(a[1]);
      }

      @Override
      Object apply(Object[] a, Object prepared) {
        return ((Pattern) prepared).matcher(text(a[0])).replaceAll(text(a[2]));
      }
    },
    ABS(1, 1, types(ValueType.NUMBER), ValueType.NUMBER) {
      @Override
      Object apply(Object[] a, Object prepared) {
        return number(a[0]).abs();
      }
    },
    ROUND(1, 2, types(ValueType.NUMBER), ValueType.NUMBER) {
      @Override
      Object apply(Object[] a, Object prepared) {
        int places = a.length > 1 ? number(a[1]).intValue() : 0;
        return number(a[0]).setScale(places, RoundingMode.HALF_UP);
      }
    },
    FLOOR(1, 1, types(ValueType.NUMBER), ValueType.NUMBER) {
      @Override
      Object apply(Object[] a, Object prepared) {
        return number(a[0]).setScale(0, RoundingMode.FLOOR);
      }
    },
    CEIL(1, 1, types(ValueType.NUMBER), ValueType.NUMBER) {
      @Override
      Object apply(Object[] a, Object prepared) {
        return number(a[0]).setScale(0, RoundingMode.CEILING);
      }
    },
    COALESCE(1, Integer.MAX_VALUE, types(ValueType.ANY), null, false) {
      @Override
      Object apply(Object[] a, Object prepared) {
        for (Object v : a) {
          if (v != null) {
            return v;
          }
        }
        return null;
      }
    },
    NULLIF(2, 2, types(ValueType.ANY), null, false) {
      @Override
      Object apply(Object[] a, Object prepared) {
        if (a[0] == null) {
          return null;
        }
        return a[1] != null && text(a[0]).equals(text(a[1])) ? null : a[0];
      }
    },
    GREATEST(1, Integer.MAX_VALUE, types(ValueType.ANY), null, false) {
      @Override
      Object apply(Object[] a, Object prepared) {
        return extreme(a, 1);
      }
    },
    LEAST(1, Integer.MAX_VALUE, types(ValueType.ANY), null, false) {
      @Override
      Object apply(Object[] a, Object prepared) {
        return extreme(a, -1);
      }
    },
    YEAR(1, 1, types(ValueType.TIMESTAMP), ValueType.NUMBER) {
      @Override
      Object apply(Object[] a, Object prepared) {
        return BigDecimal.valueOf(date(a[0]).getYear());
      }
    },
    MONTH(1, 1, types(ValueType.TIMESTAMP), ValueType.NUMBER) {
      @Override
      Object apply(Object[] a, Object prepared) {
        return BigDecimal.valueOf(date(a[0]).getMonthValue());
      }
    },
    DAY(1, 1, types(ValueType.TIMESTAMP), ValueType.NUMBER) {
      @Override
      Object apply(Object[] a, Object prepared) {
        return BigDecimal.valueOf(date(a[0]).getDayOfMonth());
      }
    },
    /** EXTRACT(unit FROM value), as Calcite parses it. */
    EXTRACT(2, 2, types(ValueType.TEXT, ValueType.TIMESTAMP), ValueType.NUMBER) {
      @Override
      Object apply(Object[] a, Object prepared) {
        String unit = text(a[0]);
        if (a[1] instanceof LocalDate || a[1] instanceof String s && s.length() == 10) {
          LocalDate d = date(a[1]);
          return BigDecimal.valueOf(field(d.atStartOfDay(), unit));
        }
        return BigDecimal.valueOf(
            field(LocalDateTime.ofInstant(timestamp(a[1]), ZoneOffset.UTC), unit));
      }
    },
    /** date_trunc('year'|'quarter'|'month'|'week'|'day'|'hour'|'minute'|'second', value). */
    DATE_TRUNC(2, 2, types(ValueType.TEXT, ValueType.TIMESTAMP), ValueType.TIMESTAMP, true, 0) {
      @Override
      Object prepare(Object[] a) {
        String unit = text(a[0]).toLowerCase(Locale.ROOT);
        if (!TRUNC_UNITS.contains(unit)) {
          throw new ExpressionException(
              "date_trunc: unknown unit '" + unit + "'; units: " + TRUNC_UNITS);
        }
        return unit;
      }

      @Override
      Object apply(Object[] a, Object prepared) {
        String unit = (String) prepared;
        if (a[1] instanceof LocalDate d) {
          return LocalDate.from(truncate(d.atStartOfDay(), unit));
        }
        LocalDateTime t = LocalDateTime.ofInstant(timestamp(a[1]), ZoneOffset.UTC);
        return truncate(t, unit).toInstant(ZoneOffset.UTC);
      }

      @Override
      ValueType resultFor(List<Node> args, ValueType declared) {
        return args.get(1).type() == ValueType.DATE ? ValueType.DATE : ValueType.TIMESTAMP;
      }
    },
    /** date_add(value, days): a date or timestamp that many days later (earlier when negative). */
    DATE_ADD(2, 2, types(ValueType.TIMESTAMP, ValueType.NUMBER), ValueType.TIMESTAMP) {
      @Override
      Object apply(Object[] a, Object prepared) {
        long days = number(a[1]).longValueExact();
        if (a[0] instanceof LocalDate d) {
          return d.plusDays(days);
        }
        return timestamp(a[0]).plus(days, ChronoUnit.DAYS);
      }

      @Override
      ValueType resultFor(List<Node> args, ValueType declared) {
        return args.get(0).type() == ValueType.DATE ? ValueType.DATE : ValueType.TIMESTAMP;
      }
    },
    /** days_between(from, to): whole days from the first to the second. */
    DAYS_BETWEEN(2, 2, types(ValueType.TIMESTAMP), ValueType.NUMBER) {
      @Override
      Object apply(Object[] a, Object prepared) {
        return BigDecimal.valueOf(ChronoUnit.DAYS.between(date(a[0]), date(a[1])));
      }
    },
    /** to_date(text, 'java.time pattern'), e.g. to_date(born, 'dd.MM.yyyy'). */
    TO_DATE(2, 2, types(ValueType.TEXT), ValueType.DATE, true, 1) {
      @Override
      Object prepare(Object[] a) {
        return pattern(a[1]);
      }

      @Override
      Object apply(Object[] a, Object prepared) {
        try {
          return LocalDate.from(((DateTimeFormatter) prepared).parse(text(a[0]).trim()));
        } catch (DateTimeException e) {
          throw new ExpressionException(
              "to_date: '" + text(a[0]) + "' does not match '" + text(a[1]) + "'");
        }
      }
    },
    /** to_timestamp(text, 'java.time pattern'): read in UTC unless the pattern has an offset. */
    TO_TIMESTAMP(2, 2, types(ValueType.TEXT), ValueType.TIMESTAMP, true, 1) {
      @Override
      Object prepare(Object[] a) {
        return pattern(a[1]);
      }

      @Override
      Object apply(Object[] a, Object prepared) {
        try {
          TemporalAccessor parsed = ((DateTimeFormatter) prepared).parse(text(a[0]).trim());
          if (parsed.isSupported(ChronoField.OFFSET_SECONDS)) {
            return OffsetDateTime.from(parsed).toInstant();
          }
          if (parsed.isSupported(ChronoField.HOUR_OF_DAY)) {
            return LocalDateTime.from(parsed).toInstant(ZoneOffset.UTC);
          }
          return LocalDate.from(parsed).atStartOfDay().toInstant(ZoneOffset.UTC);
        } catch (DateTimeException e) {
          throw new ExpressionException(
              "to_timestamp: '" + text(a[0]) + "' does not match '" + text(a[1]) + "'");
        }
      }
    };

    private static final Set<String> TRUNC_UNITS =
        Set.of("year", "quarter", "month", "week", "day", "hour", "minute", "second");

    final int minArgs;
    final int maxArgs;
    private final ValueType[] argTypes;
    final ValueType result;
    final boolean nullGivesNull;

    /** Arguments that must be literals: prepared once (a pattern, a unit), null when none. */
    final int[] constantArgs;

    Fn(int minArgs, int maxArgs, ValueType[] argTypes, ValueType result) {
      this(minArgs, maxArgs, argTypes, result, true);
    }

    Fn(int minArgs, int maxArgs, ValueType[] argTypes, ValueType result, boolean nullGivesNull) {
      this.minArgs = minArgs;
      this.maxArgs = maxArgs;
      this.argTypes = argTypes;
      this.result = result;
      this.nullGivesNull = nullGivesNull;
      this.constantArgs = null;
    }

    Fn(
        int minArgs,
        int maxArgs,
        ValueType[] argTypes,
        ValueType result,
        boolean nullGivesNull,
        int constantArg) {
      this.minArgs = minArgs;
      this.maxArgs = maxArgs;
      this.argTypes = argTypes;
      this.result = result;
      this.nullGivesNull = nullGivesNull;
      this.constantArgs = new int[] {constantArg};
    }

    abstract Object apply(Object[] args, Object prepared);

    /** What the literal arguments make once (a compiled pattern); checked when parsed. */
    Object prepare(Object[] args) {
      return null;
    }

    ValueType resultFor(List<Node> args, ValueType declared) {
      return declared;
    }

    /** The type argument {@code i} should have; null for any. */
    ValueType argType(int i) {
      ValueType type = argTypes[Math.min(i, argTypes.length - 1)];
      return type == ValueType.ANY ? null : type;
    }

    /** Checks literal arguments (a pattern, a unit) when the expression is parsed. */
    void check(List<Node> args, Function<String, IllegalArgumentException> error) {
      if (constantArgs == null) {
        return;
      }
      Object[] values = new Object[args.size()];
      for (int i : constantArgs) {
        if (i < args.size() && args.get(i) instanceof Const c) {
          values[i] = c.value();
        }
      }
      try {
        prepare(values);
      } catch (ExpressionException e) {
        throw error.apply(e.getMessage());
      }
    }

    /** The function a name in an expression calls; null when there is none. */
    static Fn named(String name) {
      switch (name) {
        case "substr":
          return SUBSTRING;
        case "char_length":
        case "character_length":
          return LENGTH;
        case "ceiling":
          return CEIL;
        case "concat_strict":
        case "trim_chars":
        case "extract":
        case "position":
          return null;
        default:
          try {
            return valueOf(name.toUpperCase(Locale.ROOT));
          } catch (IllegalArgumentException e) {
            return null;
          }
      }
    }

    /** The names a spec may call, for messages. */
    static String listed() {
      List<String> names = new ArrayList<>();
      for (Fn fn : values()) {
        if (named(fn.name().toLowerCase(Locale.ROOT)) == fn) {
          names.add(fn.name().toLowerCase(Locale.ROOT));
        }
      }
      names.add("lookup");
      return String.join(", ", names);
    }
  }

  private static ValueType[] types(ValueType... types) {
    return types;
  }

  private static String pad(Object[] a, boolean left) {
    String s = text(a[0]);
    int n = number(a[1]).intValue();
    String fill = a.length > 2 ? text(a[2]) : " ";
    if (n <= s.length() || fill.isEmpty()) {
      return s.substring(0, Math.max(0, Math.min(s.length(), n)));
    }
    StringBuilder padding = new StringBuilder();
    while (padding.length() < n - s.length()) {
      padding.append(fill);
    }
    padding.setLength(n - s.length());
    return left ? padding + s : s + padding;
  }

  private static Object extreme(Object[] a, int sign) {
    Object best = null;
    for (Object v : a) {
      if (v == null) {
        continue;
      }
      if (best == null || compareAny(v, best) * sign > 0) {
        best = v;
      }
    }
    return best;
  }

  private static int compareAny(Object a, Object b) {
    if (a instanceof BigDecimal || b instanceof BigDecimal) {
      return number(a).compareTo(number(b));
    }
    if (a instanceof Instant || b instanceof Instant) {
      return timestamp(a).compareTo(timestamp(b));
    }
    if (a instanceof LocalDate || b instanceof LocalDate) {
      return date(a).compareTo(date(b));
    }
    return text(a).compareTo(text(b));
  }

  private static Pattern regex(Object pattern) {
    try {
      return Pattern.compile(text(pattern));
    } catch (PatternSyntaxException e) {
      throw new ExpressionException(
          "bad regular expression '" + pattern + "': " + e.getDescription());
    }
  }

  private static DateTimeFormatter pattern(Object pattern) {
    try {
      return new DateTimeFormatterBuilder()
          .parseCaseInsensitive()
          .appendPattern(text(pattern).replace("yyyy", "uuuu").replace("yy", "uu"))
          .toFormatter(Locale.ENGLISH)
          .withResolverStyle(ResolverStyle.STRICT);
    } catch (IllegalArgumentException e) {
      throw new ExpressionException("bad date pattern '" + pattern + "': " + e.getMessage());
    }
  }

  private static long field(LocalDateTime t, String unit) {
    switch (unit) {
      case "year":
        return t.getYear();
      case "quarter":
        return t.get(IsoFields.QUARTER_OF_YEAR);
      case "month":
        return t.getMonthValue();
      case "week":
        return t.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR);
      case "day":
        return t.getDayOfMonth();
      case "dow":
        return t.getDayOfWeek().getValue() % 7;
      case "doy":
        return t.getDayOfYear();
      case "hour":
        return t.getHour();
      case "minute":
        return t.getMinute();
      case "second":
        return t.getSecond();
      default:
        throw new ExpressionException("extract: unsupported unit '" + unit + "'");
    }
  }

  private static LocalDateTime truncate(LocalDateTime t, String unit) {
    switch (unit) {
      case "year":
        return t.toLocalDate().withDayOfYear(1).atStartOfDay();
      case "quarter":
        return t.toLocalDate()
            .withMonth((t.getMonthValue() - 1) / 3 * 3 + 1)
            .withDayOfMonth(1)
            .atStartOfDay();
      case "month":
        return t.toLocalDate().withDayOfMonth(1).atStartOfDay();
      case "week":
        return t.toLocalDate().minusDays(t.getDayOfWeek().getValue() - 1L).atStartOfDay();
      case "day":
        return t.truncatedTo(ChronoUnit.DAYS);
      case "hour":
        return t.truncatedTo(ChronoUnit.HOURS);
      case "minute":
        return t.truncatedTo(ChronoUnit.MINUTES);
      default:
        return t.truncatedTo(ChronoUnit.SECONDS);
    }
  }

  // ---- values ----

  /** True when an ISO date-time text ends in Z or an offset after its time. */
  private static boolean hasOffset(String s) {
    if (s.endsWith("Z") || s.endsWith("z")) {
      return true;
    }
    int time = s.indexOf('T');
    return time > 0 && (s.indexOf('+', time) > 0 || s.indexOf('-', time) > 0);
  }

  /** True for a date-time text ending in {@code +HH} or {@code -HH} (no minutes). */
  private static boolean endsInHourOffset(String s) {
    int n = s.length();
    return n > 13
        && s.indexOf('T') > 0
        && (s.charAt(n - 3) == '+' || s.charAt(n - 3) == '-')
        && Character.isDigit(s.charAt(n - 2))
        && Character.isDigit(s.charAt(n - 1));
  }

  /** A row's value in the expression's own types: numbers as BigDecimal, instants as Instant. */
  static Object canonical(Object v) {
    if (v == null || v instanceof String || v instanceof BigDecimal || v instanceof Boolean) {
      return v;
    }
    if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
      return BigDecimal.valueOf(((Number) v).longValue());
    }
    if (v instanceof Double || v instanceof Float) {
      return BigDecimal.valueOf(((Number) v).doubleValue());
    }
    if (v instanceof org.joda.time.ReadableInstant joda) {
      return Instant.ofEpochMilli(joda.getMillis());
    }
    return v;
  }

  /** {@code v} read as {@code type}; text columns are read as numbers, dates, timestamps. */
  static Object as(Object v, ValueType type) {
    if (v == null) {
      return null;
    }
    switch (type) {
      case NUMBER:
        return number(v);
      case DATE:
        return date(v);
      case TIMESTAMP:
        return timestamp(v);
      case BOOLEAN:
        return bool(v);
      case TEXT:
        return text(v);
      default:
        return v;
    }
  }

  static String text(Object v) {
    if (v == null) {
      return null;
    }
    if (v instanceof BigDecimal d) {
      return d.toPlainString();
    }
    return v.toString();
  }

  static BigDecimal number(Object v) {
    if (v instanceof BigDecimal d) {
      return d;
    }
    Object c = canonical(v);
    if (c instanceof BigDecimal d) {
      return d;
    }
    String s = text(v).trim();
    try {
      return new BigDecimal(s.startsWith("+") ? s.substring(1) : s);
    } catch (NumberFormatException e) {
      throw new ExpressionException("'" + v + "' is not a number");
    }
  }

  static Boolean bool(Object v) {
    if (v == null || v instanceof Boolean) {
      return (Boolean) v;
    }
    switch (text(v).trim().toLowerCase(Locale.ROOT)) {
      case "true":
      case "t":
      case "yes":
      case "y":
      case "1":
        return true;
      case "false":
      case "f":
      case "no":
      case "n":
      case "0":
        return false;
      default:
        throw new ExpressionException("'" + v + "' is not true or false");
    }
  }

  static LocalDate date(Object v) {
    if (v instanceof LocalDate d) {
      return d;
    }
    if (v instanceof Instant i) {
      return LocalDate.ofInstant(i, ZoneOffset.UTC);
    }
    String s = text(v).trim();
    // Decided by shape, so that a timestamp's text costs no exception per row.
    if (s.length() == 10) {
      try {
        return LocalDate.parse(s);
      } catch (DateTimeException e) {
        throw new ExpressionException("'" + v + "' is not a date (yyyy-MM-dd)");
      }
    }
    try {
      return LocalDate.ofInstant(timestamp(s), ZoneOffset.UTC);
    } catch (ExpressionException notTimestamp) {
      throw new ExpressionException("'" + v + "' is not a date (yyyy-MM-dd)");
    }
  }

  static Instant timestamp(Object v) {
    if (v instanceof Instant i) {
      return i;
    }
    if (v instanceof LocalDate d) {
      return d.atStartOfDay().toInstant(ZoneOffset.UTC);
    }
    Object c = canonical(v);
    if (c instanceof Instant i) {
      return i;
    }
    String s = text(v).trim().replace(' ', 'T');
    if (endsInHourOffset(s)) {
      // PostgreSQL's text form ends in +HH.
      s = s + ":00";
    }
    // Decided by shape, so that parsing costs no exception per row.
    try {
      if (s.length() == 10) {
        return LocalDate.parse(s).atStartOfDay().toInstant(ZoneOffset.UTC);
      }
      if (hasOffset(s)) {
        return OffsetDateTime.parse(s).toInstant();
      }
      return LocalDateTime.parse(s).toInstant(ZoneOffset.UTC);
    } catch (DateTimeException e) {
      throw new ExpressionException("'" + v + "' is not a timestamp (ISO-8601)");
    }
  }
}
