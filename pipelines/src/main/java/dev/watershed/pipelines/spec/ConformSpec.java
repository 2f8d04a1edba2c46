package dev.watershed.pipelines.spec;

import dev.watershed.transforms.conform.FieldRule;
import java.util.Map;

/** One entry under {@code conform:}: how records of a source become rows of a model. */
public record ConformSpec(String from, String to, Map<String, FieldRule> fields, int line) {}
