package dev.watershed.transforms.expression;

import dev.watershed.transforms.expression.Nodes.Node;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.logicaltypes.SqlTypes;
import org.apache.beam.sdk.values.Row;
import org.apache.calcite.avatica.util.Casing;
import org.apache.calcite.avatica.util.Quoting;
import org.apache.calcite.avatica.util.TimeUnitRange;
import org.apache.calcite.sql.SqlBasicTypeNameSpec;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlDataTypeSpec;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlIntervalQualifier;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlLiteral;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlNodeList;
import org.apache.calcite.sql.SqlUnknownLiteral;
import org.apache.calcite.sql.fun.SqlBetweenOperator;
import org.apache.calcite.sql.fun.SqlCase;
import org.apache.calcite.sql.fun.SqlLikeOperator;
import org.apache.calcite.sql.fun.SqlTrimFunction;
import org.apache.calcite.sql.parser.SqlParseException;
import org.apache.calcite.sql.parser.SqlParser;
import org.apache.calcite.sql.type.SqlTypeName;
import org.apache.calcite.sql.validate.SqlConformanceEnum;

/**
 * A SQL expression over a row's columns, parsed by Apache Calcite's SQL parser and evaluated by a
 * small, safe interpreter: it reads columns, calls the functions listed in {@link Nodes.Fn}, and
 * nothing else runs. Types are checked when it is parsed ({@link #type()}); a value that does not
 * fit at run time (a text that is not a number) throws {@link ExpressionException}.
 *
 * <pre>{@code
 * SqlExpression name =
 *     SqlExpression.parse("concat_ws(' ', first_name, last_name)", column -> ValueType.TEXT, Map.of());
 * name.eval(row);       // "Ada Lovelace"
 * name.columns();       // [first_name, last_name]
 * }</pre>
 *
 * <p>Identifiers are case-sensitive and may be quoted with double quotes ({@code "First Name"});
 * text literals use single quotes. Nulls follow SQL: most functions and operators give null for a
 * null argument, {@code concat} and {@code concat_ws} skip them, a comparison with null is not
 * true. Text columns are read as numbers, dates or timestamps where an operator or function needs
 * one ({@code amount * 100}, {@code year(signed_up)}), so raw source columns need no casts.
 */
public final class SqlExpression implements Serializable {
  private static final SqlParser.Config PARSER =
      SqlParser.config()
          .withQuoting(Quoting.DOUBLE_QUOTE)
          .withUnquotedCasing(Casing.UNCHANGED)
          .withQuotedCasing(Casing.UNCHANGED)
          .withCaseSensitive(true)
          .withConformance(SqlConformanceEnum.LENIENT);

  private final String text;
  private final Node root;
  private final ValueType type;
  private final Set<String> columns;

  private SqlExpression(String text, Node root, ValueType type, Set<String> columns) {
    this.text = text;
    this.root = root;
    this.type = type;
    // In the order the expression names them: a JDBC read selects them in that order.
    this.columns = Collections.unmodifiableSet(new LinkedHashSet<>(columns));
  }

  /**
   * Parses and type-checks {@code text}.
   *
   * @param columnTypes the type of each column the expression may read; null for an unknown column
   * @param lookups the lookup tables {@code lookup(...)} may name
   * @throws IllegalArgumentException naming the position and what is wrong
   */
  public static SqlExpression parse(
      String text, Function<String, ValueType> columnTypes, Map<String, LookupTable> lookups) {
    SqlNode node;
    String sql = text;
    SqlParseException first = null;
    while (true) {
      try {
        node = SqlParser.create(sql, PARSER).parseExpression();
        break;
      } catch (SqlParseException e) {
        first = first == null ? e : first;
        // A column named like a SQL keyword (at, date, value, year) reads as that column when
        // the parser stumbles on it; anything else is the writer's mistake.
        String quoted = quoteColumnAt(sql, e, columnTypes);
        if (quoted == null) {
          throw new IllegalArgumentException(
              "expression '"
                  + text
                  + "'"
                  + (first.getPos() == null
                      ? ""
                      : ", at character " + first.getPos().getColumnNum())
                  + ": "
                  + firstLine(first.getMessage()));
        }
        sql = quoted;
      }
    }
    Compiler compiler = new Compiler(text, columnTypes, lookups);
    Node root = compiler.compile(node);
    return new SqlExpression(text, root, root.type(), compiler.columns);
  }

  /** The types of a Beam schema's fields, for {@link #parse}: null for a field it lacks. */
  public static Function<String, ValueType> columnsOf(Schema schema) {
    return column -> schema.hasField(column) ? typeOf(schema.getField(column).getType()) : null;
  }

  private static ValueType typeOf(Schema.FieldType type) {
    switch (type.getTypeName()) {
      case BYTE:
      case INT16:
      case INT32:
      case INT64:
      case FLOAT:
      case DOUBLE:
      case DECIMAL:
        return ValueType.NUMBER;
      case BOOLEAN:
        return ValueType.BOOLEAN;
      case DATETIME:
        return ValueType.TIMESTAMP;
      case LOGICAL_TYPE:
        Object logical = type.getLogicalType();
        if (logical instanceof Schema.LogicalType<?, ?> lt) {
          String id = lt.getIdentifier();
          if (id.equals(SqlTypes.DATE.getIdentifier())) {
            return ValueType.DATE;
          }
          if (id.equals(SqlTypes.TIMESTAMP.getIdentifier())
              || id.equals(SqlTypes.DATETIME.getIdentifier())
              || lt.getBaseType().getTypeName() == Schema.TypeName.DATETIME) {
            return ValueType.TIMESTAMP;
          }
          return typeOf(lt.getBaseType());
        }
        return ValueType.TEXT;
      default:
        return ValueType.TEXT;
    }
  }

  /** The value for {@code row}: String, BigDecimal, Boolean, LocalDate, Instant or null. */
  public Object eval(Row row) {
    return root.eval(row::getValue);
  }

  /** The value with columns read by {@code values}. */
  public Object eval(Function<String, Object> values) {
    return root.eval(values);
  }

  /** True when the expression's value is true (not false, not null). */
  public boolean test(Row row) {
    return Boolean.TRUE.equals(eval(row));
  }

  public ValueType type() {
    return type;
  }

  /** The columns the expression reads. */
  public Set<String> columns() {
    return columns;
  }

  /** The value as text, the way a source column would hold it (ISO dates, plain numbers). */
  public static String text(Object value) {
    return Nodes.text(value);
  }

  @Override
  public String toString() {
    return text;
  }

  /** Words of the expression language itself, never read as columns. */
  private static final Set<String> LANGUAGE_WORDS =
      Set.of(
          "and",
          "or",
          "not",
          "is",
          "null",
          "true",
          "false",
          "case",
          "when",
          "then",
          "else",
          "end",
          "in",
          "like",
          "between",
          "cast",
          "as",
          "from",
          "for",
          "both",
          "leading",
          "trailing",
          "unknown",
          "distinct",
          "escape",
          "interval");

  private static final Pattern ENCOUNTERED = Pattern.compile("Encountered \"(.*?)\" at line");

  /**
   * {@code sql} with a column the parser stumbled on quoted everywhere it stands bare: the first
   * word of the tokens it reports that is a column and not a word of the language; null when there
   * is none.
   */
  private static String quoteColumnAt(
      String sql, SqlParseException e, Function<String, ValueType> columnTypes) {
    Matcher encountered = ENCOUNTERED.matcher(e.getMessage() == null ? "" : e.getMessage());
    if (!encountered.find()) {
      return null;
    }
    String word = null;
    for (String token : encountered.group(1).split("\\s+")) {
      if (token.matches("[A-Za-z_][A-Za-z0-9_]*")
          && !LANGUAGE_WORDS.contains(token.toLowerCase(Locale.ROOT))
          && columnTypes.apply(token) != null) {
        word = token;
        break;
      }
    }
    if (word == null) {
      return null;
    }
    StringBuilder out = new StringBuilder();
    boolean changed = false;
    int i = 0;
    while (i < sql.length()) {
      char c = sql.charAt(i);
      if (c == '\'' || c == '"') {
        int close = sql.indexOf(c, i + 1);
        close = close < 0 ? sql.length() - 1 : close;
        out.append(sql, i, close + 1);
        i = close + 1;
        continue;
      }
      boolean wordStart =
          sql.startsWith(word, i)
              && (i == 0 || !isWordChar(sql.charAt(i - 1)))
              && (i + word.length() == sql.length() || !isWordChar(sql.charAt(i + word.length())));
      if (wordStart && !sql.substring(i + word.length()).stripLeading().startsWith("(")) {
        out.append('"').append(word).append('"');
        i += word.length();
        changed = true;
        continue;
      }
      out.append(c);
      i++;
    }
    return changed ? out.toString() : null;
  }

  private static boolean isWordChar(char c) {
    return Character.isLetterOrDigit(c) || c == '_';
  }

  private static String firstLine(String message) {
    String line = message == null ? "cannot parse" : message.split("\n", 2)[0];
    // Calcite's own positions repeat what the caller says; keep the words.
    return line.replaceAll(" at line \\d+, column \\d+", "").replaceAll("\\s+\\.$", "").trim();
  }

  /** Turns Calcite's parse tree into {@link Nodes}, checking names, arities and types. */
  private static final class Compiler {
    private final String text;
    private final Function<String, ValueType> columnTypes;
    private final Map<String, LookupTable> lookups;
    private final Set<String> columns = new LinkedHashSet<>();

    Compiler(
        String text, Function<String, ValueType> columnTypes, Map<String, LookupTable> lookups) {
      this.text = text;
      this.columnTypes = columnTypes;
      this.lookups = lookups;
    }

    private IllegalArgumentException error(SqlNode at, String message) {
      String where =
          at == null || at.getParserPosition().getColumnNum() <= 0
              ? ""
              : ", at character " + at.getParserPosition().getColumnNum();
      return new IllegalArgumentException("expression '" + text + "'" + where + ": " + message);
    }

    Node compile(SqlNode node) {
      if (node instanceof SqlIdentifier id) {
        return column(id);
      }
      if (node instanceof SqlLiteral literal) {
        return literal(literal);
      }
      if (node instanceof SqlCase sqlCase) {
        return caseOf(sqlCase);
      }
      if (node instanceof SqlCall call) {
        return call(call);
      }
      throw error(node, "'" + node + "' is not supported here");
    }

    private Node column(SqlIdentifier id) {
      if (!id.isSimple()) {
        throw error(id, "'" + id + "': name a column of the row, without a table");
      }
      String name = id.getSimple();
      String lower = name.toLowerCase(Locale.ROOT);
      if (lower.equals("true") || lower.equals("false")) {
        return new Nodes.Const(Boolean.valueOf(lower), ValueType.BOOLEAN);
      }
      ValueType type = columnTypes.apply(name);
      if (type == null) {
        throw error(id, "no column '" + name + "'");
      }
      columns.add(name);
      return new Nodes.Column(name, type);
    }

    private Node literal(SqlLiteral literal) {
      if (literal instanceof SqlUnknownLiteral typed) {
        // DATE '2024-01-01', TIMESTAMP '2024-01-01 10:00:00': typed when Calcite validates.
        String value = typed.getValue();
        try {
          switch (typed.tag.toUpperCase(Locale.ROOT)) {
            case "DATE":
              return new Nodes.Const(Nodes.date(value), ValueType.DATE);
            case "TIMESTAMP":
              return new Nodes.Const(Nodes.timestamp(value), ValueType.TIMESTAMP);
            default:
              throw error(
                  literal, "a " + typed.tag.toLowerCase(Locale.ROOT) + " literal is not supported");
          }
        } catch (ExpressionException e) {
          throw error(literal, e.getMessage());
        }
      }
      SqlTypeName type = literal.getTypeName();
      switch (type) {
        case NULL:
          return new Nodes.Const(null, ValueType.ANY);
        case BOOLEAN:
          return new Nodes.Const(literal.booleanValue(), ValueType.BOOLEAN);
        case CHAR:
        case VARCHAR:
          return new Nodes.Const(literal.getValueAs(String.class), ValueType.TEXT);
        case DECIMAL:
        case INTEGER:
        case BIGINT:
        case DOUBLE:
          return new Nodes.Const(literal.bigDecimalValue(), ValueType.NUMBER);
        case DATE:
          return new Nodes.Const(Nodes.date(literal.toValue()), ValueType.DATE);
        case TIMESTAMP:
          return new Nodes.Const(Nodes.timestamp(literal.toValue()), ValueType.TIMESTAMP);
        default:
          throw error(
              literal,
              "a " + type.getName().toLowerCase(Locale.ROOT) + " literal is not supported");
      }
    }

    private Node caseOf(SqlCase sqlCase) {
      SqlNode valueOperand = sqlCase.getValueOperand();
      Node subject = valueOperand == null ? null : compile(valueOperand);
      List<Node> whens = new ArrayList<>();
      List<Node> thens = new ArrayList<>();
      ValueType result = ValueType.ANY;
      for (int i = 0; i < sqlCase.getWhenOperands().size(); i++) {
        SqlNode whenNode = sqlCase.getWhenOperands().get(i);
        Node when = compile(whenNode);
        if (subject != null) {
          when =
              new Nodes.Compare("=", subject, when, Nodes.compareAs(subject.type(), when.type()));
        } else {
          expect(whenNode, when, ValueType.BOOLEAN, "WHEN");
        }
        whens.add(when);
        SqlNode thenNode = sqlCase.getThenOperands().get(i);
        Node then = compile(thenNode);
        result = unify(thenNode, result, then.type(), "THEN");
        thens.add(then);
      }
      SqlNode elseNode = sqlCase.getElseOperand();
      Node otherwise = elseNode == null ? new Nodes.Const(null, ValueType.ANY) : compile(elseNode);
      result = unify(elseNode, result, otherwise.type(), "ELSE");
      return new Nodes.Case(whens, thens, otherwise, result);
    }

    private ValueType unify(SqlNode at, ValueType so, ValueType next, String where) {
      if (so == ValueType.ANY) {
        return next;
      }
      if (next == ValueType.ANY || next == so) {
        return so;
      }
      if ((so == ValueType.DATE && next == ValueType.TIMESTAMP)
          || (so == ValueType.TIMESTAMP && next == ValueType.DATE)) {
        return ValueType.TIMESTAMP;
      }
      // Text (a raw source column) is read as whatever the other branches give.
      if (so == ValueType.TEXT) {
        return next;
      }
      if (next == ValueType.TEXT) {
        return so;
      }
      throw error(at, where + " gives " + next + " where the others give " + so);
    }

    private void expect(SqlNode at, Node node, ValueType wanted, String what) {
      ValueType got = node.type();
      if (got.fits(wanted) || (got == ValueType.TEXT && wanted != ValueType.BOOLEAN)) {
        return;
      }
      if (wanted == ValueType.TIMESTAMP && got == ValueType.DATE
          || wanted == ValueType.DATE && got == ValueType.TIMESTAMP) {
        return;
      }
      throw error(
          at, what + " needs " + article(wanted) + ", got " + article(got) + " ('" + at + "')");
    }

    private static String article(ValueType type) {
      return (type == ValueType.ANY ? "any value" : "a " + type);
    }

    private List<Node> operands(SqlCall call) {
      List<Node> out = new ArrayList<>();
      for (SqlNode operand : call.getOperandList()) {
        if (operand == null) {
          continue;
        }
        out.add(compile(operand));
      }
      return out;
    }

    private Node call(SqlCall call) {
      SqlKind kind = call.getKind();
      switch (kind) {
        case AND:
        case OR:
          {
            List<Node> parts = operands(call);
            for (int i = 0; i < parts.size(); i++) {
              expect(call.operand(i), parts.get(i), ValueType.BOOLEAN, kind.name());
            }
            return new Nodes.Logic(kind == SqlKind.AND, parts);
          }
        case NOT:
          {
            Node inner = compile(call.operand(0));
            expect(call.operand(0), inner, ValueType.BOOLEAN, "NOT");
            return new Nodes.Not(inner);
          }
        case IS_NULL:
        case IS_NOT_NULL:
          return new Nodes.IsNull(compile(call.operand(0)), kind == SqlKind.IS_NOT_NULL);
        case EQUALS:
        case NOT_EQUALS:
        case LESS_THAN:
        case LESS_THAN_OR_EQUAL:
        case GREATER_THAN:
        case GREATER_THAN_OR_EQUAL:
          {
            Node left = compile(call.operand(0));
            Node right = compile(call.operand(1));
            String op = kind == SqlKind.NOT_EQUALS ? "<>" : call.getOperator().getName();
            return new Nodes.Compare(op, left, right, compareAs(call, left, right));
          }
        case BETWEEN:
          {
            Node value = compile(call.operand(0));
            Node low = compile(call.operand(1));
            Node high = compile(call.operand(2));
            Node between =
                new Nodes.Logic(
                    true,
                    List.of(
                        new Nodes.Compare(">=", value, low, compareAs(call, value, low)),
                        new Nodes.Compare("<=", value, high, compareAs(call, value, high))));
            boolean negated =
                call.getOperator() instanceof SqlBetweenOperator betweenOperator
                    && betweenOperator.isNegated();
            return negated ? new Nodes.Not(between) : between;
          }
        case IN:
        case NOT_IN:
          {
            Node value = compile(call.operand(0));
            if (!(call.operand(1) instanceof SqlNodeList list)) {
              throw error(call, "IN needs a list of values");
            }
            List<Node> options = new ArrayList<>();
            for (SqlNode option : list) {
              Node compiled = compile(option);
              options.add(
                  new Nodes.Compare("=", value, compiled, compareAs(call, value, compiled)));
            }
            Node in = new Nodes.Logic(false, options);
            return kind == SqlKind.NOT_IN ? new Nodes.Not(in) : in;
          }
        case LIKE:
          {
            Node value = compile(call.operand(0));
            Node pattern = compile(call.operand(1));
            Node like = new Nodes.Like(value, pattern);
            boolean negated =
                call.getOperator() instanceof SqlLikeOperator likeOperator
                    && likeOperator.isNegated();
            return negated ? new Nodes.Not(like) : like;
          }
        case PLUS:
        case MINUS:
        case TIMES:
        case DIVIDE:
        case MOD:
          {
            List<Node> parts = operands(call);
            Node left = parts.get(0);
            Node right = parts.get(1);
            if ((kind == SqlKind.PLUS || kind == SqlKind.MINUS)
                && (left.type() == ValueType.DATE || left.type() == ValueType.TIMESTAMP)) {
              throw error(call, "date arithmetic is written date_add(date, days)");
            }
            String op = call.getOperator().getName();
            expect(call.operand(0), left, ValueType.NUMBER, op);
            expect(call.operand(1), right, ValueType.NUMBER, op);
            return new Nodes.Arithmetic(op, left, right);
          }
        case MINUS_PREFIX:
          {
            Node inner = compile(call.operand(0));
            expect(call.operand(0), inner, ValueType.NUMBER, "-");
            return new Nodes.Arithmetic(
                "-", new Nodes.Const(java.math.BigDecimal.ZERO, ValueType.NUMBER), inner);
          }
        case PLUS_PREFIX:
          return compile(call.operand(0));
        case CAST:
          return cast(call);
        case EXTRACT:
          {
            if (!(call.operand(0) instanceof SqlIntervalQualifier unit)) {
              throw error(call, "EXTRACT needs a unit: EXTRACT(YEAR FROM ...)");
            }
            Node from = compile(call.operand(1));
            expect(call.operand(1), from, ValueType.TIMESTAMP, "EXTRACT");
            return new Nodes.Call(
                Nodes.Fn.EXTRACT,
                List.of(new Nodes.Const(unitName(unit.timeUnitRange), ValueType.TEXT), from),
                ValueType.NUMBER);
          }
        case TRIM:
          return trim(call);
        case POSITION:
          {
            List<Node> parts = operands(call);
            return new Nodes.Call(Nodes.Fn.POSITION, parts, ValueType.NUMBER);
          }
        case OTHER:
          if (call.getOperator().getName().equals("||")) {
            return new Nodes.Call(Nodes.Fn.CONCAT_STRICT, operands(call), ValueType.TEXT);
          }
          return function(call);
        default:
          return function(call);
      }
    }

    private static String unitName(TimeUnitRange range) {
      return range.name().toLowerCase(Locale.ROOT);
    }

    private Nodes.Compare.As compareAs(SqlCall call, Node left, Node right) {
      try {
        return Nodes.compareAs(left.type(), right.type());
      } catch (IllegalArgumentException e) {
        throw error(call, e.getMessage());
      }
    }

    private Node trim(SqlCall call) {
      // TRIM([BOTH|LEADING|TRAILING] [chars] FROM value): operands flag, chars, value.
      String flag = ((SqlLiteral) call.operand(0)).getValueAs(SqlTrimFunction.Flag.class).name();
      Node chars = compile(call.operand(1));
      Node value = compile(call.operand(2));
      return new Nodes.Call(
          Nodes.Fn.TRIM_CHARS,
          List.of(new Nodes.Const(flag, ValueType.TEXT), chars, value),
          ValueType.TEXT);
    }

    private Node cast(SqlCall call) {
      Node value = compile(call.operand(0));
      SqlDataTypeSpec spec = (SqlDataTypeSpec) call.operand(1);
      String name = spec.getTypeName().getSimple().toUpperCase(Locale.ROOT);
      int scale = -1;
      if (spec.getTypeNameSpec() instanceof SqlBasicTypeNameSpec basic) {
        scale = basic.getScale();
      }
      switch (name) {
        case "VARCHAR":
        case "CHAR":
        case "TEXT":
        case "STRING":
          return new Nodes.Cast(value, ValueType.TEXT, -1);
        case "INTEGER":
        case "INT":
        case "BIGINT":
        case "SMALLINT":
        case "TINYINT":
          return new Nodes.Cast(value, ValueType.NUMBER, 0);
        case "DECIMAL":
        case "NUMERIC":
          return new Nodes.Cast(value, ValueType.NUMBER, Math.max(scale, 0));
        case "DOUBLE":
        case "FLOAT":
        case "REAL":
          return new Nodes.Cast(value, ValueType.NUMBER, -1);
        case "BOOLEAN":
          return new Nodes.Cast(value, ValueType.BOOLEAN, -1);
        case "DATE":
          return new Nodes.Cast(value, ValueType.DATE, -1);
        case "TIMESTAMP":
          return new Nodes.Cast(value, ValueType.TIMESTAMP, -1);
        default:
          throw error(
              call,
              "cannot cast to "
                  + name.toLowerCase(Locale.ROOT)
                  + "; types: varchar, integer, bigint, decimal(p,s), double, boolean, date,"
                  + " timestamp");
      }
    }

    private Node function(SqlCall call) {
      String name = call.getOperator().getName().toLowerCase(Locale.ROOT);
      if (name.equals("lookup")) {
        return lookup(call);
      }
      Nodes.Fn fn = Nodes.Fn.named(name);
      if (fn == null) {
        throw error(call, "unknown function '" + name + "'; functions: " + Nodes.Fn.listed());
      }
      List<Node> args = operands(call);
      if (args.size() < fn.minArgs || args.size() > fn.maxArgs) {
        throw error(
            call,
            name
                + " takes "
                + (fn.minArgs == fn.maxArgs
                    ? fn.minArgs
                    : fn.minArgs
                        + (fn.maxArgs == Integer.MAX_VALUE ? " or more" : " to " + fn.maxArgs))
                + " arguments, got "
                + args.size());
      }
      for (int i = 0; i < args.size(); i++) {
        ValueType wanted = fn.argType(i);
        if (wanted != null) {
          expect(call.operand(i), args.get(i), wanted, name);
        }
      }
      ValueType result = fn.result;
      if (result == null) {
        // coalesce, nullif, greatest, least: the type their arguments share.
        result = ValueType.ANY;
        for (int i = 0; i < args.size(); i++) {
          result = unify(call.operand(i), result, args.get(i).type(), name);
        }
      }
      if (fn.constantArgs != null) {
        for (int i : fn.constantArgs) {
          if (i < args.size() && !(args.get(i) instanceof Nodes.Const)) {
            throw error(call, name + ": argument " + (i + 1) + " must be a literal");
          }
        }
      }
      Node node = new Nodes.Call(fn, args, result);
      fn.check(args, message -> error(call, name + ": " + message));
      return node;
    }

    private Node lookup(SqlCall call) {
      List<SqlNode> operands = call.getOperandList();
      if (operands.size() != 3
          || !(operands.get(0) instanceof SqlLiteral table)
          || !(operands.get(1) instanceof SqlLiteral column)) {
        throw error(call, "write lookup('table', 'value_column', key)");
      }
      String tableName = table.getValueAs(String.class);
      LookupTable lookupTable = lookups.get(tableName);
      if (lookupTable == null) {
        throw error(
            call, "no lookup table '" + tableName + "'; lookup tables: " + lookups.keySet());
      }
      String valueColumn = column.getValueAs(String.class);
      if (!lookupTable.hasColumn(valueColumn)) {
        throw error(
            call,
            "lookup table '"
                + tableName
                + "' has no column '"
                + valueColumn
                + "'; columns: "
                + lookupTable.columns());
      }
      Node key = compile(operands.get(2));
      return new Nodes.Lookup(lookupTable.index(lookupTable.keyColumn(), valueColumn), key);
    }
  }
}
