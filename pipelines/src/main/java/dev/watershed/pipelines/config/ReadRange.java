package dev.watershed.pipelines.config;

/**
 * What a source read in part reads in one run: from the mark the last run committed (null: from the
 * start) to the mark the source stands at now.
 */
public record ReadRange(String from, String to) {}
