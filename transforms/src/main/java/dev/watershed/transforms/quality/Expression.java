package dev.watershed.transforms.quality;

import java.io.Serializable;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.Row;

/**
 * A boolean expression over a row's fields, for {@code expression} quality rules.
 *
 * <p>The language is small and safe: it reads fields and compares values, nothing else runs.
 *
 * <pre>
 * expr    := or
 * or      := and ("or" and)*
 * and     := not ("and" not)*
 * not     := "not" not | compare
 * compare := value (("=" | "!=" | "&lt;&gt;" | "&lt;" | "&lt;=" | "&gt;" | "&gt;=") value
 *                  | "is" ["not"] "null")?
 * value   := field | 'text' | number | true | false | null | length(value) | "(" expr ")"
 * </pre>
 *
 * <p>Keywords are case-insensitive. A comparison with a null on either side is false (as in SQL,
 * but without a third truth value), so {@code balance >= 0} fails for a null balance; write {@code
 * balance is null or balance >= 0} to allow it. Text compares with text, numbers with numbers (any
 * mix of int, long, decimal), dates and timestamps with ISO text ({@code signup_date >=
 * '2020-01-01'}).
 *
 * <pre>{@code
 * Expression rule = Expression.parse("status = 'closed' or resolved_at is null", schema);
 * boolean ok = rule.test(row);
 * }</pre>
 */
public final class Expression implements Serializable {
  private final String text;
  private final Node root;

  private Expression(String text, Node root) {
    this.text = text;
    this.root = root;
  }

  /**
   * Parses {@code text} against the fields of {@code schema}.
   *
   * @throws IllegalArgumentException naming the position and what was expected, or an unknown field
   */
  public static Expression parse(String text, Schema schema) {
    Parser parser = new Parser(text, schema);
    Node root = parser.or();
    parser.expectEnd();
    return new Expression(text, root);
  }

  /** True when the row satisfies the expression. */
  public boolean test(Row row) {
    return truth(root.eval(row));
  }

  @Override
  public String toString() {
    return text;
  }

  private static boolean truth(Object value) {
    return Boolean.TRUE.equals(value);
  }

  private interface Node extends Serializable {
    Object eval(Row row);
  }

  private record Literal(Object value) implements Node {
    @Override
    public Object eval(Row row) {
      return value;
    }
  }

  private record Field(String name) implements Node {
    @Override
    public Object eval(Row row) {
      return row.getValue(name);
    }
  }

  private record Length(Node value) implements Node {
    @Override
    public Object eval(Row row) {
      Object v = value.eval(row);
      return v == null ? null : BigDecimal.valueOf(v.toString().length());
    }
  }

  private record Not(Node value) implements Node {
    @Override
    public Object eval(Row row) {
      return !truth(value.eval(row));
    }
  }

  private record Logic(boolean and, Node left, Node right) implements Node {
    @Override
    public Object eval(Row row) {
      boolean l = truth(left.eval(row));
      if (and ? !l : l) {
        return l;
      }
      return truth(right.eval(row));
    }
  }

  private record IsNull(Node value, boolean negated) implements Node {
    @Override
    public Object eval(Row row) {
      return (value.eval(row) == null) != negated;
    }
  }

  private record Compare(String op, Node left, Node right) implements Node {
    @Override
    public Object eval(Row row) {
      Object l = left.eval(row);
      Object r = right.eval(row);
      if (l == null || r == null) {
        return false;
      }
      int c = compare(l, r);
      switch (op) {
        case "=":
          return c == 0;
        case "!=":
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

    private static int compare(Object l, Object r) {
      BigDecimal ln = number(l);
      BigDecimal rn = number(r);
      if (ln != null && rn != null) {
        return ln.compareTo(rn);
      }
      if (l instanceof Boolean || r instanceof Boolean) {
        return String.valueOf(l).compareTo(String.valueOf(r));
      }
      return text(l).compareTo(text(r));
    }

    private static BigDecimal number(Object v) {
      if (v instanceof BigDecimal d) {
        return d;
      }
      if (v instanceof Integer || v instanceof Long) {
        return BigDecimal.valueOf(((Number) v).longValue());
      }
      return null;
    }

    private static String text(Object v) {
      if (v instanceof Instant || v instanceof LocalDate) {
        return v.toString();
      }
      return v.toString();
    }
  }

  /** A recursive-descent parser over a small tokenizer. */
  private static final class Parser {
    private static final Set<String> OPERATORS = Set.of("=", "!=", "<>", "<", "<=", ">", ">=");
    private final String text;
    private final Schema schema;
    private final List<String> tokens = new ArrayList<>();
    private final List<Integer> positions = new ArrayList<>();
    private int next;

    Parser(String text, Schema schema) {
      this.text = text;
      this.schema = schema;
      tokenize();
    }

    private void tokenize() {
      int i = 0;
      while (i < text.length()) {
        char c = text.charAt(i);
        if (Character.isWhitespace(c)) {
          i++;
          continue;
        }
        int start = i;
        if (c == '\'') {
          StringBuilder s = new StringBuilder("'");
          i++;
          while (true) {
            if (i >= text.length()) {
              throw error(start, "a text in quotes is not closed");
            }
            if (text.charAt(i) == '\'') {
              if (i + 1 < text.length() && text.charAt(i + 1) == '\'') {
                s.append('\'');
                i += 2;
                continue;
              }
              i++;
              break;
            }
            s.append(text.charAt(i++));
          }
          add(s.toString(), start);
        } else if (Character.isLetter(c) || c == '_') {
          while (i < text.length()
              && (Character.isLetterOrDigit(text.charAt(i)) || text.charAt(i) == '_')) {
            i++;
          }
          add(text.substring(start, i), start);
        } else if (Character.isDigit(c)
            || (c == '-' && i + 1 < text.length() && Character.isDigit(text.charAt(i + 1)))) {
          i++;
          while (i < text.length()
              && (Character.isDigit(text.charAt(i)) || text.charAt(i) == '.')) {
            i++;
          }
          add(text.substring(start, i), start);
        } else if (i + 1 < text.length() && OPERATORS.contains(text.substring(i, i + 2))) {
          add(text.substring(i, i + 2), start);
          i += 2;
        } else if ("=<>()".indexOf(c) >= 0) {
          add(String.valueOf(c), start);
          i++;
        } else {
          throw error(start, "unexpected character '" + c + "'");
        }
      }
    }

    private void add(String token, int position) {
      tokens.add(token);
      positions.add(position);
    }

    private IllegalArgumentException error(int position, String message) {
      return new IllegalArgumentException(
          "expression '" + text + "', at character " + (position + 1) + ": " + message);
    }

    private String peek() {
      return next < tokens.size() ? tokens.get(next) : null;
    }

    private boolean keyword(String word) {
      String token = peek();
      if (token != null && token.toLowerCase(Locale.ROOT).equals(word)) {
        next++;
        return true;
      }
      return false;
    }

    private int position() {
      return next < positions.size() ? positions.get(next) : text.length();
    }

    void expectEnd() {
      if (next < tokens.size()) {
        throw error(position(), "unexpected '" + peek() + "'");
      }
    }

    Node or() {
      Node left = and();
      while (keyword("or")) {
        left = new Logic(false, left, and());
      }
      return left;
    }

    private Node and() {
      Node left = not();
      while (keyword("and")) {
        left = new Logic(true, left, not());
      }
      return left;
    }

    private Node not() {
      if (keyword("not")) {
        return new Not(not());
      }
      return compare();
    }

    private Node compare() {
      Node left = value();
      if (keyword("is")) {
        boolean negated = keyword("not");
        if (!keyword("null")) {
          throw error(position(), "expected 'null' after 'is'");
        }
        return new IsNull(left, negated);
      }
      String op = peek();
      if (op != null && OPERATORS.contains(op)) {
        next++;
        return new Compare(op, left, value());
      }
      return left;
    }

    private Node value() {
      String token = peek();
      if (token == null) {
        throw error(text.length(), "expected a value");
      }
      int at = position();
      next++;
      if (token.equals("(")) {
        Node inner = or();
        if (!")".equals(peek())) {
          throw error(position(), "expected ')'");
        }
        next++;
        return inner;
      }
      if (token.startsWith("'")) {
        return new Literal(token.substring(1));
      }
      if (Character.isDigit(token.charAt(0)) || token.charAt(0) == '-') {
        try {
          return new Literal(new BigDecimal(token));
        } catch (NumberFormatException e) {
          throw error(at, "'" + token + "' is not a number");
        }
      }
      String word = token.toLowerCase(Locale.ROOT);
      switch (word) {
        case "true":
          return new Literal(Boolean.TRUE);
        case "false":
          return new Literal(Boolean.FALSE);
        case "null":
          return new Literal(null);
        case "length":
          if (!"(".equals(peek())) {
            throw error(position(), "expected '(' after length");
          }
          next++;
          Node inner = or();
          if (!")".equals(peek())) {
            throw error(position(), "expected ')'");
          }
          next++;
          return new Length(inner);
        default:
          if (!Character.isLetter(token.charAt(0)) && token.charAt(0) != '_') {
            throw error(at, "unexpected '" + token + "'");
          }
          if (!schema.hasField(token)) {
            throw error(at, "no field '" + token + "'; fields: " + schema.getFieldNames());
          }
          return new Field(token);
      }
    }
  }
}
