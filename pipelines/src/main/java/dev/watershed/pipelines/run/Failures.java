package dev.watershed.pipelines.run;

import java.sql.SQLException;

/** Turns an exception from a run into the one line a user needs. */
public final class Failures {
  private Failures() {}

  /**
   * The most useful message in the cause chain: our own messages (which name the thing and the fix)
   * win over the wrappers runners add around them.
   */
  public static String describe(Throwable failure) {
    Throwable best = failure;
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof SQLException
          && t.getMessage() != null
          && (t.getMessage().contains("cannot connect")
              || t.getMessage().startsWith("sink ")
              || t.getMessage().startsWith("sinks."))) {
        // Ours, naming the database or sink and the fix; what it wraps says less.
        return firstLine(t.getMessage());
      }
      if (t.getMessage() != null && !isWrapper(t)) {
        best = t;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    String message = best.getMessage();
    return message == null ? best.getClass().getSimpleName() : firstLine(message);
  }

  private static boolean isWrapper(Throwable t) {
    String name = t.getClass().getName();
    return name.endsWith("PipelineExecutionException")
        || name.startsWith("org.apache.flink.runtime")
        || name.endsWith("JobExecutionException")
        || name.endsWith("UserCodeException")
        || name.endsWith("ExecutionException")
        || name.endsWith("CompletionException");
  }

  private static String firstLine(String message) {
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }
}
