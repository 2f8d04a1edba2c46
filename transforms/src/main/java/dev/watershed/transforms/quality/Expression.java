package dev.watershed.transforms.quality;

import dev.watershed.transforms.expression.SqlExpression;
import dev.watershed.transforms.expression.ValueType;
import java.io.Serializable;
import java.util.Map;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.Row;

/**
 * A condition over a row's fields, for {@code expression} quality rules and identity match rules: a
 * SQL expression ({@link SqlExpression}, the language of conform's {@code expr}) that gives true or
 * false.
 *
 * <p>A row passes only when the condition is true. Nulls follow SQL: a comparison with a null is
 * unknown, so {@code balance >= 0} fails a null balance and so does {@code not (balance < 0)};
 * write {@code balance is null or balance >= 0} to allow it. Dates and timestamps compare with ISO
 * text ({@code signup_date >= '2020-01-01'}).
 *
 * <pre>{@code
 * Expression rule = Expression.parse("status = 'closed' or resolved_at is null", schema);
 * boolean ok = rule.test(row);
 * }</pre>
 */
public final class Expression implements Serializable {
  private final SqlExpression sql;

  private Expression(SqlExpression sql) {
    this.sql = sql;
  }

  /**
   * Parses {@code text} against the fields of {@code schema}.
   *
   * @throws IllegalArgumentException naming the position and what is wrong, an unknown field, or an
   *     expression that does not give true or false
   */
  public static Expression parse(String text, Schema schema) {
    SqlExpression sql = SqlExpression.parse(text, SqlExpression.columnsOf(schema), Map.of());
    if (sql.type() != ValueType.BOOLEAN && sql.type() != ValueType.ANY) {
      throw new IllegalArgumentException(
          "expression '" + text + "' gives a " + sql.type() + ", not true or false");
    }
    return new Expression(sql);
  }

  /** True when the row satisfies the expression (neither false nor unknown). */
  public boolean test(Row row) {
    return sql.test(row);
  }

  @Override
  public String toString() {
    return sql.toString();
  }
}
