package dev.watershed.pipelines.config;

/**
 * The Kafka topic a streaming run reads a source from, as a consumer group: what the progress line
 * and {@code --stop-when-idle} watch (committed offsets and lag).
 */
public record ConsumedTopic(String bootstrapServers, String topic, String group) {}
