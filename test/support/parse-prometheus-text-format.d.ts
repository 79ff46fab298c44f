/** The Prometheus text parser the metrics tests read /metrics with (it ships no types). */
declare module 'parse-prometheus-text-format' {
  interface Sample {
    labels?: Record<string, string>;
    value?: string;
    /** A histogram's or summary's. */
    count?: string;
    sum?: string;
    buckets?: Record<string, string>;
  }
  export default function parse(text: string): { name: string; type: string; help: string; metrics: Sample[] }[];
}
