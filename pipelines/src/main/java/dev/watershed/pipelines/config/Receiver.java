package dev.watershed.pipelines.config;

/** What receives a pushed source's events (a webhook server), running until closed. */
public interface Receiver extends AutoCloseable {
  /** Requests received so far, answered or refused. */
  long requests();
}
