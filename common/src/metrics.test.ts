import { describe, expect, test } from 'vitest';
import { Registry } from './metrics.ts';

describe('metrics registry', () => {
  test('renders counters with labels, gauges and histograms in Prometheus text format', () => {
    const r = new Registry('trm_');
    const c = r.counter('frames_total', 'frames seen');
    c.inc(2, { codec: '8' });
    c.inc(1, { codec: '8' });
    r.gauge('lag', 'lag entries', () => 7);
    const h = r.histogram('latency_seconds', 'latency', [0.1, 1]);
    h.observe(0.05);
    h.observe(0.5);
    const text = r.render();
    expect(text).toContain('trm_frames_total{codec="8"} 3');
    expect(text).toContain('trm_lag 7');
    expect(text).toContain('trm_latency_seconds_bucket{le="0.1"} 1');
    expect(text).toContain('trm_latency_seconds_bucket{le="1"} 2');
    expect(text).toContain('trm_latency_seconds_count 2');
    expect(h.quantile(0.5)).toBe(0.1);
    expect(h.quantile(0.99)).toBe(1);
  });
});
