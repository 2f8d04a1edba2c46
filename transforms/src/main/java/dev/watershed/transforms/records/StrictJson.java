package dev.watershed.transforms.records;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The JSON reader for source data: a record is one JSON value and nothing else. Jackson's defaults
 * accept {@code {"a":"b"}#} and {@code {"a":"b"}/**}{@code /} as the object alone, and let the last
 * of two equal keys win; both would load a record that is not what the source holds, so here both
 * are errors and the record a dead letter.
 */
public final class StrictJson {
  private StrictJson() {}

  /** A new mapper that refuses trailing content and duplicate keys. */
  public static ObjectMapper mapper() {
    ObjectMapper mapper = new ObjectMapper();
    mapper.enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    mapper.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    return mapper;
  }
}
