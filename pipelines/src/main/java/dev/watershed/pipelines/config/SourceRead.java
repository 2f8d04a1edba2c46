package dev.watershed.pipelines.config;

import org.apache.beam.sdk.transforms.PTransform;
import org.apache.beam.sdk.transforms.WithFailures;
import org.apache.beam.sdk.values.PBegin;
import org.apache.beam.sdk.values.PCollection;
import org.apache.beam.sdk.values.Row;

/**
 * How a source is read in this run: the transform that yields its raw rows and dead letters, and
 * where it reads, in words, for the plan.
 */
public record SourceRead(
    PTransform<PBegin, WithFailures.Result<PCollection<Row>, Row>> transform, String where) {}
