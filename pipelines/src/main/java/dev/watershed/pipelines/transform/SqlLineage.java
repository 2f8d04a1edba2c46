package dev.watershed.pipelines.transform;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlJoin;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlNodeList;
import org.apache.calcite.sql.SqlOrderBy;
import org.apache.calcite.sql.SqlSelect;
import org.apache.calcite.sql.dialect.PostgresqlSqlDialect;
import org.apache.calcite.sql.util.SqlBasicVisitor;

/**
 * The column lineage of a SQL model, from its parse tree (Calcite's Babel parser): for each column
 * of the SELECT, the columns of the tables it reads that the column comes from, and how: {@code
 * IDENTITY} when it is one column as it is, else the expression ({@code sum(a.balance)}).
 * Subqueries in FROM are followed to their tables; UNION branches add up by position. A column that
 * the parse alone cannot place (an unqualified name over a join, {@code *}) names no input.
 */
public final class SqlLineage {
  /** A column the model's column comes from: the table (a ref's name), column and how. */
  public record Input(String table, String column, String transformation) {}

  private SqlLineage() {}

  /** The lineage of {@code model}, column by column in SELECT order. */
  public static Map<String, List<Input>> of(SqlModels.SqlModel model) {
    String probe =
        model
            .template()
            .render(
                b ->
                    switch (b.function()) {
                      case "ref" -> "\"" + b.args().get(0) + "\"";
                      case "this" -> "\"" + model.name() + "\"";
                      default -> "";
                    });
    return columns(SqlModels.parseQuery(probe));
  }

  private static Map<String, List<Input>> columns(SqlNode query) {
    if (query instanceof SqlOrderBy orderBy) {
      return columns(orderBy.query);
    }
    if (query instanceof SqlSelect select) {
      return select(select);
    }
    if (query.getKind() == SqlKind.UNION
        || query.getKind() == SqlKind.INTERSECT
        || query.getKind() == SqlKind.EXCEPT) {
      Map<String, List<Input>> out = new LinkedHashMap<>();
      for (SqlNode branch : ((SqlCall) query).getOperandList()) {
        Map<String, List<Input>> columns = columns(branch);
        if (out.isEmpty()) {
          columns.forEach((name, inputs) -> out.put(name, new ArrayList<>(inputs)));
        } else {
          List<String> names = new ArrayList<>(out.keySet());
          List<List<Input>> more = new ArrayList<>(columns.values());
          for (int i = 0; i < Math.min(names.size(), more.size()); i++) {
            out.get(names.get(i)).addAll(more.get(i));
          }
        }
      }
      return out;
    }
    return new LinkedHashMap<>();
  }

  private static Map<String, List<Input>> select(SqlSelect select) {
    // What each name in FROM stands for: a table, or a subquery's columns.
    Map<String, Object> from = new LinkedHashMap<>();
    if (select.getFrom() != null) {
      from(select.getFrom(), from);
    }
    Map<String, List<Input>> out = new LinkedHashMap<>();
    int position = 0;
    for (SqlNode item : select.getSelectList()) {
      position++;
      SqlNode expression = item;
      String name;
      if (item.getKind() == SqlKind.AS) {
        expression = ((SqlCall) item).operand(0);
        name = ((SqlIdentifier) ((SqlCall) item).operand(1)).getSimple();
      } else if (item instanceof SqlIdentifier id && !id.isStar()) {
        name = id.names.get(id.names.size() - 1);
      } else if (item instanceof SqlIdentifier) {
        continue;
      } else {
        name = "EXPR$" + (position - 1);
      }
      boolean identity = expression instanceof SqlIdentifier;
      String how = identity ? "IDENTITY" : text(expression);
      Set<Input> inputs = new LinkedHashSet<>();
      for (SqlIdentifier id : identifiers(expression)) {
        resolve(id, from, how, inputs);
      }
      out.put(name.toLowerCase(Locale.ROOT), new ArrayList<>(inputs));
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  private static void resolve(
      SqlIdentifier id, Map<String, Object> from, String how, Set<Input> inputs) {
    String column = id.names.get(id.names.size() - 1);
    Object source = null;
    if (id.names.size() >= 2) {
      source = from.get(id.names.get(id.names.size() - 2).toLowerCase(Locale.ROOT));
    } else if (from.size() == 1) {
      source = from.values().iterator().next();
    }
    if (source instanceof String table) {
      inputs.add(new Input(table, column.toLowerCase(Locale.ROOT), how));
    } else if (source instanceof Map<?, ?> subquery) {
      for (Input inner :
          ((Map<String, List<Input>>) subquery)
              .getOrDefault(column.toLowerCase(Locale.ROOT), List.of())) {
        inputs.add(
            new Input(
                inner.table(),
                inner.column(),
                how.equals("IDENTITY") ? inner.transformation() : how));
      }
    }
  }

  private static void from(SqlNode node, Map<String, Object> out) {
    if (node instanceof SqlJoin join) {
      from(join.getLeft(), out);
      from(join.getRight(), out);
    } else if (node.getKind() == SqlKind.AS) {
      SqlCall as = (SqlCall) node;
      String alias = ((SqlIdentifier) as.operand(1)).getSimple().toLowerCase(Locale.ROOT);
      SqlNode target = as.operand(0);
      if (target instanceof SqlIdentifier table) {
        out.put(alias, table.names.get(table.names.size() - 1));
      } else {
        out.put(alias, columns(target));
      }
    } else if (node instanceof SqlIdentifier table) {
      String name = table.names.get(table.names.size() - 1);
      out.put(name.toLowerCase(Locale.ROOT), name);
    }
  }

  /** Every column name an expression reads (not the functions it calls). */
  private static List<SqlIdentifier> identifiers(SqlNode expression) {
    List<SqlIdentifier> out = new ArrayList<>();
    expression.accept(
        new SqlBasicVisitor<Void>() {
          @Override
          public Void visit(SqlIdentifier id) {
            if (!id.isStar()) {
              out.add(id);
            }
            return null;
          }

          @Override
          public Void visit(SqlCall call) {
            if (call instanceof SqlSelect) {
              return null; // a scalar subquery reads tables of its own
            }
            for (SqlNode operand : call.getOperandList()) {
              if (operand != null) {
                operand.accept(this);
              }
            }
            return null;
          }

          @Override
          public Void visit(SqlNodeList list) {
            for (SqlNode node : list) {
              if (node != null) {
                node.accept(this);
              }
            }
            return null;
          }
        });
    return out;
  }

  private static String text(SqlNode expression) {
    return expression
        .toSqlString(PostgresqlSqlDialect.DEFAULT)
        .getSql()
        .replace("\"", "")
        .replaceAll("\\s+", " ")
        .toLowerCase(Locale.ROOT);
  }
}
