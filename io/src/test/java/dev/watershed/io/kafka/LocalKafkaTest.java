package dev.watershed.io.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

class LocalKafkaTest {
  @Test
  void aRecordProducedIsConsumedBack() throws Exception {
    try (LocalKafka kafka = LocalKafka.start()) {
      kafka.createTopic("events", 2);
      assertTrue(kafka.topics().contains("events"));
      try (KafkaProducer<String, String> producer =
          new KafkaProducer<>(
              Map.of("bootstrap.servers", kafka.bootstrapServers()),
              new StringSerializer(),
              new StringSerializer())) {
        producer.send(new ProducerRecord<>("events", "k1", "{\"a\":1}")).get();
        producer.send(new ProducerRecord<>("events", "k2", null)).get();
      }
      List<String> values = new ArrayList<>();
      try (KafkaConsumer<String, String> consumer =
          new KafkaConsumer<>(
              Map.of(
                  "bootstrap.servers", kafka.bootstrapServers(),
                  "group.id", "test",
                  "auto.offset.reset", "earliest"),
              new StringDeserializer(),
              new StringDeserializer())) {
        consumer.subscribe(List.of("events"));
        long deadline = System.currentTimeMillis() + 30_000;
        while (values.size() < 2 && System.currentTimeMillis() < deadline) {
          for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(500))) {
            values.add(record.key() + "=" + record.value());
          }
        }
      }
      values.sort(null);
      assertEquals(List.of("k1={\"a\":1}", "k2=null"), values);
    }
  }
}
