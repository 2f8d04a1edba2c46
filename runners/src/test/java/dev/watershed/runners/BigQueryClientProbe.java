package dev.watershed.runners;

import com.google.api.gax.core.NoCredentialsProvider;
import com.google.api.gax.rpc.ApiException;
import com.google.cloud.bigquery.storage.v1.BigQueryWriteClient;
import com.google.cloud.bigquery.storage.v1.BigQueryWriteSettings;
import com.google.cloud.bigquery.storage.v1.CreateWriteStreamRequest;
import com.google.cloud.bigquery.storage.v1.WriteStream;

/**
 * Run by {@link BigQueryClientJarIT} with the runnable jar first on the class path: builds the
 * Storage Write client the BigQuery sink uses and sends a real request to a local endpoint, so that
 * the libraries the jar resolved (Guava, gax, gRPC) build and send it. Prints the outcome.
 */
public final class BigQueryClientProbe {
  private BigQueryClientProbe() {}

  public static void main(String[] args) throws Exception {
    BigQueryWriteSettings.Builder builder =
        BigQueryWriteSettings.newBuilder()
            .setEndpoint("127.0.0.1:" + args[0])
            .setCredentialsProvider(NoCredentialsProvider.create())
            .setTransportChannelProvider(
                BigQueryWriteSettings.defaultGrpcTransportProviderBuilder()
                    .setChannelConfigurator(channel -> channel.usePlaintext())
                    .build());
    // One attempt: the client would retry an unavailable endpoint for twenty minutes.
    builder.createWriteStreamSettings().setRetryableCodes();
    BigQueryWriteSettings settings = builder.build();
    try (BigQueryWriteClient client = BigQueryWriteClient.create(settings)) {
      client.createWriteStream(
          CreateWriteStreamRequest.newBuilder()
              .setParent("projects/p/datasets/d/tables/t")
              .setWriteStream(WriteStream.newBuilder().setType(WriteStream.Type.PENDING))
              .build());
      System.out.println("answered");
    } catch (ApiException e) {
      // The local endpoint is no BigQuery: the request was built and sent, and failed there.
      System.out.println("request sent; the endpoint answered " + e.getStatusCode().getCode());
    }
    System.exit(0);
  }
}
