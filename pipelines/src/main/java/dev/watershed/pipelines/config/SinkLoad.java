package dev.watershed.pipelines.config;

import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;

/** A load added to the graph: the dead letters it yields (null: none) and where it loads. */
public record SinkLoad(PCollection<Row> deadLetters, String where) {}
