package dev.watershed.transforms.model;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.values.Row;

/**
 * Turns a row into one line of JSON: decimals as JSON numbers in plain notation, dates and
 * timestamps as ISO-8601 strings, nulls as JSON null. Field order follows the schema.
 */
public final class RowJson implements SerializableFunction<Row, String> {
  private static final ObjectMapper MAPPER =
      new ObjectMapper().enable(JsonGenerator.Feature.WRITE_BIGDECIMAL_AS_PLAIN);

  @Override
  public String apply(Row row) {
    try {
      return MAPPER.writeValueAsString(node(row));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write row as JSON", e);
    }
  }

  /** The row as a JSON object, for callers that build a larger document around it. */
  public ObjectNode node(Row row) {
    ObjectNode node = MAPPER.createObjectNode();
    Schema schema = row.getSchema();
    for (int i = 0; i < schema.getFieldCount(); i++) {
      String name = schema.getField(i).getName();
      Object value = row.getValue(i);
      if (value == null) {
        node.putNull(name);
      } else if (value instanceof String) {
        node.put(name, (String) value);
      } else if (value instanceof Integer) {
        node.put(name, (Integer) value);
      } else if (value instanceof Long) {
        node.put(name, (Long) value);
      } else if (value instanceof BigDecimal) {
        node.put(name, ModelTypes.atScale(schema.getField(i), (BigDecimal) value));
      } else if (value instanceof Boolean) {
        node.put(name, (Boolean) value);
      } else {
        node.put(name, value.toString());
      }
    }
    return node;
  }
}
