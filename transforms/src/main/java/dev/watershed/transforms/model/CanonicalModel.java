package dev.watershed.transforms.model;

import dev.watershed.transforms.records.RawRecords;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.values.Row;

/**
 * A canonical model: a name, typed fields and a key.
 *
 * <p>Rows of a model carry the declared fields in declaration order, followed by the lineage fields
 * {@code _source} and {@code _position} (see {@link RawRecords}), so every loaded row can be traced
 * back to the record it came from.
 *
 * <pre>{@code
 * CanonicalModel customer =
 *     CanonicalModel.builder("customer")
 *         .field("customer_id", "string")
 *         .field("email", "string")
 *         .field("balance", "decimal(12,2)")
 *         .key("customer_id")
 *         .build();
 * }</pre>
 */
public final class CanonicalModel implements Serializable {
  private final String name;
  private final Schema schema;
  private final List<String> key;
  private final boolean changes;

  private CanonicalModel(String name, Schema schema, List<String> key, boolean changes) {
    this.name = name;
    this.schema = schema;
    this.key = List.copyOf(key);
    this.changes = changes;
  }

  public static Builder builder(String name) {
    return new Builder(name);
  }

  public String name() {
    return name;
  }

  /** The row schema: declared fields, then {@code _source} and {@code _position}. */
  public Schema schema() {
    return schema;
  }

  /** The declared data fields, without lineage fields. */
  public List<Schema.Field> dataFields() {
    List<Schema.Field> fields = new ArrayList<>();
    for (Schema.Field field : schema.getFields()) {
      if (!RawRecords.isMetadata(field.getName())) {
        fields.add(field);
      }
    }
    return fields;
  }

  /**
   * The fields a load writes: the data fields, then {@code _source}; for a model fed by a change
   * stream also {@code _version} and {@code _deleted}.
   */
  public List<Schema.Field> loadFields() {
    List<Schema.Field> fields = dataFields();
    fields.add(schema.getField(RawRecords.SOURCE));
    if (changes) {
      fields.add(schema.getField(RawRecords.VERSION));
      fields.add(schema.getField(RawRecords.DELETED));
    }
    return fields;
  }

  /**
   * True when the model is fed by a change stream: its rows then also carry {@code _version} (the
   * change's position in the source log), {@code _deleted} and {@code _changed_at}, and loads apply
   * them as upserts and deletes.
   */
  public boolean tracksChanges() {
    return changes;
  }

  /** This model, fed by a change stream ({@link #tracksChanges()}). */
  public CanonicalModel withChanges() {
    if (changes) {
      return this;
    }
    Schema.Builder builder = Schema.builder();
    builder.addFields(schema.getFields());
    builder
        .addNullableField(RawRecords.VERSION, Schema.FieldType.INT64)
        .addNullableField(RawRecords.DELETED, Schema.FieldType.BOOLEAN)
        .addField(ModelTypes.field(RawRecords.CHANGED_AT, "timestamp"));
    return new CanonicalModel(name, builder.build(), key, true);
  }

  /**
   * This model with a nullable text field {@code _raw_<field>} after its data fields for each of
   * {@code fields}: where a conform rule keeps the raw text of a value it could not conform.
   */
  public CanonicalModel withRawColumns(Collection<String> fields) {
    Schema.Builder builder = Schema.builder();
    List<Schema.Field> metadata = new ArrayList<>();
    for (Schema.Field field : schema.getFields()) {
      if (RawRecords.isMetadata(field.getName())) {
        metadata.add(field);
      } else {
        builder.addField(field);
      }
    }
    for (String field : fields) {
      String raw = "_raw_" + field;
      if (!schema.hasField(field)) {
        throw new IllegalArgumentException("model " + name + " has no field '" + field + "'");
      }
      if (!schema.hasField(raw)) {
        builder.addNullableField(raw, Schema.FieldType.STRING);
      }
    }
    builder.addFields(metadata);
    return new CanonicalModel(name, builder.build(), key, changes);
  }

  /** The key fields, in declaration order of the key. */
  public List<String> key() {
    return key;
  }

  /** Builds a {@link CanonicalModel}. */
  public static final class Builder {
    private final String name;
    private final Map<String, String> fields = new LinkedHashMap<>();
    private final List<String> key = new ArrayList<>();

    private Builder(String name) {
      this.name = name;
    }

    /** Adds a field of a type named as in a spec ({@link ModelTypes#ALLOWED}). */
    public Builder field(String fieldName, String type) {
      fields.put(fieldName, type);
      return this;
    }

    /** Sets the key fields. */
    public Builder key(String... fieldNames) {
      key.clear();
      key.addAll(List.of(fieldNames));
      return this;
    }

    public Builder key(List<String> fieldNames) {
      key.clear();
      key.addAll(fieldNames);
      return this;
    }

    public CanonicalModel build() {
      if (key.isEmpty()) {
        throw new IllegalArgumentException("model " + name + " needs at least one key field");
      }
      Schema.Builder schema = Schema.builder();
      for (Map.Entry<String, String> field : fields.entrySet()) {
        schema.addField(ModelTypes.field(field.getKey(), field.getValue()));
      }
      for (String keyField : key) {
        if (!fields.containsKey(keyField)) {
          throw new IllegalArgumentException(
              "model " + name + ": key field '" + keyField + "' is not one of its fields");
        }
      }
      schema.addStringField(RawRecords.SOURCE).addStringField(RawRecords.POSITION);
      return new CanonicalModel(name, schema.build(), key, false);
    }
  }

  /**
   * The key of a row as text, as every stage that groups or looks up rows by key writes it: the
   * value itself for a one-field key, else each value followed by a separator that cannot occur in
   * normal text.
   */
  public static String keyText(Row row, List<String> fields) {
    if (fields.size() == 1) {
      return String.valueOf(row.<Object>getValue(fields.get(0)));
    }
    StringBuilder key = new StringBuilder();
    for (String field : fields) {
      key.append(row.<Object>getValue(field)).append('\u0001');
    }
    return key.toString();
  }
}
