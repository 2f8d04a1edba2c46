package dev.watershed.pipelines.transform;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.apache.calcite.sql.SqlBasicCall;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlLiteral;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.parser.SqlParseException;
import org.apache.calcite.sql.parser.SqlParser;

/**
 * The text of a SQL model: SQL with {@code {{ ... }}} blocks, each a call parsed by Apache
 * Calcite's expression parser: {@code {{ ref('name') }}} (another SQL model, or a table the run
 * loads), {@code {{ config(materialized='table', unique_key='id') }}} (the model's settings) and
 * {@code {{ this }}} (the model's own table, for incremental filters).
 */
final class SqlTemplate {
  /** A {@code {{ ... }}} block: what it calls, with its literal arguments by position or name. */
  record Block(String function, List<String> args, List<String[]> named, int line) {}

  /** Literal text between blocks, or a block. */
  record Part(String text, Block block) {}

  private final List<Part> parts;

  private SqlTemplate(List<Part> parts) {
    this.parts = parts;
  }

  List<Part> parts() {
    return parts;
  }

  /**
   * Splits {@code text} into SQL and blocks.
   *
   * @throws IllegalArgumentException saying which block is wrong and where
   */
  static SqlTemplate parse(String text) {
    List<Part> parts = new ArrayList<>();
    int at = 0;
    while (true) {
      int open = text.indexOf("{{", at);
      if (open < 0) {
        parts.add(new Part(text.substring(at), null));
        return new SqlTemplate(parts);
      }
      int close = text.indexOf("}}", open + 2);
      int line = 1 + (int) text.substring(0, open).chars().filter(c -> c == '\n').count();
      if (close < 0) {
        throw new IllegalArgumentException("line " + line + ": '{{' without its '}}'");
      }
      parts.add(new Part(text.substring(at, open), null));
      parts.add(new Part(null, block(text.substring(open + 2, close).strip(), line)));
      at = close + 2;
    }
  }

  private static Block block(String expression, int line) {
    SqlNode node;
    try {
      node = SqlParser.create(expression, SqlModels.PARSER).parseExpression();
    } catch (SqlParseException e) {
      throw new IllegalArgumentException(
          "line " + line + ": '{{ " + expression + " }}' is not ref('name'), config(...) or this");
    }
    if (node instanceof SqlIdentifier id && id.isSimple()) {
      return new Block(
          id.getSimple().toLowerCase(java.util.Locale.ROOT), List.of(), List.of(), line);
    }
    if (!(node instanceof SqlBasicCall call)
        || call.getOperator().getKind() != SqlKind.OTHER_FUNCTION) {
      throw new IllegalArgumentException(
          "line " + line + ": '{{ " + expression + " }}' is not ref('name'), config(...) or this");
    }
    List<String> args = new ArrayList<>();
    List<String[]> named = new ArrayList<>();
    for (SqlNode operand : call.getOperandList()) {
      if (operand instanceof SqlLiteral literal) {
        args.add(literal.toValue());
      } else if (operand instanceof SqlCall eq
          && eq.getKind() == SqlKind.EQUALS
          && eq.operand(0) instanceof SqlIdentifier key
          && eq.operand(1) instanceof SqlLiteral value) {
        named.add(
            new String[] {key.getSimple().toLowerCase(java.util.Locale.ROOT), value.toValue()});
      } else {
        throw new IllegalArgumentException(
            "line "
                + line
                + ": in '{{ "
                + expression
                + " }}', arguments are quoted text: 'name', or key='value'");
      }
    }
    return new Block(
        call.getOperator().getName().toLowerCase(java.util.Locale.ROOT), args, named, line);
  }

  /** The SQL with each block replaced by what {@code render} makes of it. */
  String render(Function<Block, String> render) {
    StringBuilder sql = new StringBuilder();
    for (Part part : parts) {
      sql.append(part.block() == null ? part.text() : render.apply(part.block()));
    }
    return sql.toString();
  }
}
