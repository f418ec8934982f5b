// Prometheus text exposition of the aggregator's statistics. The totals live in DynamoDB, not in this
// process, so each scrape builds a fresh registry from /stats' numbers.
import { Counter, Gauge, Registry } from 'prom-client';
import type { Stats } from './stats.ts';

export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

export const renderMetrics = async (stats: Stats): Promise<string> => {
  const registry = new Registry();
  const counter = (name: string, help: string, value: number, labels: string[] = [], labelValues: Record<string, string> = {}) => {
    const metric = new Counter({ name, help, labelNames: labels, registers: [registry] });
    metric.inc(labelValues, value);
    return metric;
  };
  counter('log_aggregator_events_received_total', 'Events taken from the queue and counted, each exactly once.', stats.received);
  counter('log_aggregator_events_unique_total', 'Distinct events stored.', stats.unique_processed);
  counter('log_aggregator_events_duplicate_total', 'Deliveries dropped as duplicates of a stored event.', stats.duplicate_dropped);
  counter('log_aggregator_events_processed_total', 'Deliveries processed (unique + duplicate).', stats.processed);

  // Only the top topics by volume (METRICS_TOP_TOPICS): bounded label cardinality, whatever the number of topics.
  const topic = (name: string, help: string) => new Counter({ name, help, labelNames: ['topic'], registers: [registry] });
  const topicReceived = topic('log_aggregator_topic_events_received_total', 'Events received, per topic (top topics by volume).');
  const topicUnique = topic('log_aggregator_topic_events_unique_total', 'Distinct events stored, per topic (top topics by volume).');
  const topicDuplicate = topic('log_aggregator_topic_events_duplicate_total', 'Duplicates dropped, per topic (top topics by volume).');
  for (const counts of stats.top_topics) {
    topicReceived.inc({ topic: counts.topic }, counts.received);
    topicUnique.inc({ topic: counts.topic }, counts.unique);
    topicDuplicate.inc({ topic: counts.topic }, counts.duplicate);
  }

  const queue = new Gauge({ name: 'log_aggregator_queue_messages', help: 'Messages in the queues (each carries many events).', labelNames: ['queue', 'state'], registers: [registry] });
  queue.set({ queue: 'events', state: 'visible' }, stats.queue.visible);
  queue.set({ queue: 'events', state: 'in_flight' }, stats.queue.in_flight);
  queue.set({ queue: 'events', state: 'delayed' }, stats.queue.delayed);
  queue.set({ queue: 'dlq', state: 'all' }, stats.queue.dlq);
  new Gauge({ name: 'log_aggregator_dedup_ratio', help: 'Duplicates over deliveries processed.', registers: [registry] }).set(stats.dedup_rate);
  new Gauge({ name: 'log_aggregator_uptime_seconds', help: 'Seconds since the aggregator first accepted an event.', registers: [registry] }).set(stats.uptime_seconds);
  return registry.metrics();
};
