import { readFileSync } from 'node:fs';
import type express from 'express';

/** Where the page is, and the charting library it draws with: served by the server, for hosts with no internet. */
export const USAGE_CHART_PATH = '/reports/usage';
const ASSETS = '/reports/assets';
const LIBRARY = { script: 'uPlot.iife.min.js', style: 'uPlot.min.css' } as const;

const REPORT = `query UsageChart($filter: UsageReportFilter!, $from: DateTimeISO!, $to: DateTimeISO!) {
  usageReport(filter: $filter, from: $from, to: $to, resolution: DAY) {
    licenses { licenseId planName type metrics { metric limit overThresholds { threshold } series { start peak denials } } }
  }
}`;

const ORGANIZATIONS = 'query ChartOrganizations { organizations(first: 200) { nodes { id name } } }';

/**
 * The page's script: reads the usage report through the GraphQL API with the administrator's token (kept for the
 * browser tab only) and draws, for one organization and metric, each license's daily peak against its limit, the
 * thresholds of its alert rules, and the days a limit turned requests away.
 */
const SCRIPT = `
const $ = (id) => document.getElementById(id);
const DAY = 86400000;
const COLORS = ['#2563eb', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#be123c', '#4d7c0f', '#a16207'];
let token = sessionStorage.getItem('alm-token') || '';
$('token').value = token;

function status(message, failed) {
  $('status').textContent = message;
  $('status').className = failed ? 'failed' : '';
}

async function gql(query, variables) {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors && body.errors.length) {
    const e = body.errors[0];
    throw new Error(e.message + (e.extensions && e.extensions.code ? ' (' + e.extensions.code + ')' : ''));
  }
  return body.data;
}

async function connect() {
  token = $('token').value.trim();
  sessionStorage.setItem('alm-token', token);
  try {
    const data = await gql(${JSON.stringify(ORGANIZATIONS)}, {});
    const select = $('organization');
    select.replaceChildren(...data.organizations.nodes.map((o) => new Option(o.name, o.id)));
    status(data.organizations.nodes.length + ' organization(s)');
    $('draw').disabled = !data.organizations.nodes.length;
  } catch (error) {
    status(error.message, true);
  }
}

/** The chart's columns: days, then each license's daily peak in percent of its limit, thresholds, and denials. */
function chartOf(report, metric) {
  const licenses = report.licenses
    .map((l) => ({ license: l, m: l.metrics.find((m) => m.metric === metric) }))
    .filter((x) => x.m && x.m.limit);
  if (!licenses.length) return null;
  const days = licenses[0].m.series.map((p) => Date.parse(p.start) / 1000);
  const series = [{}];
  const data = [days];
  licenses.forEach(({ license, m }, i) => {
    series.push({ label: license.planName + ' …' + license.licenseId.slice(-6), stroke: COLORS[i % COLORS.length], width: 2 });
    data.push(m.series.map((p) => Math.round((p.peak / m.limit) * 1000) / 10));
  });
  const thresholds = [...new Set(licenses.flatMap(({ m }) => m.overThresholds.map((t) => t.threshold)))].sort((a, b) => a - b);
  for (const threshold of thresholds) {
    series.push({ label: threshold + ' %', stroke: threshold >= 100 ? '#dc2626' : '#f59e0b', dash: [6, 4], width: 1, points: { show: false } });
    data.push(days.map(() => threshold));
  }
  series.push({ label: 'denials', stroke: '#dc2626', width: 0, paths: () => null, points: { show: true, size: 9, fill: '#dc2626' } });
  data.push(days.map((_, d) => {
    const denied = licenses.filter(({ m }) => m.series[d].denials > 0);
    return denied.length ? Math.max(...denied.map(({ m }) => Math.round((m.series[d].peak / m.limit) * 1000) / 10)) : null;
  }));
  return { series, data, licenses: licenses.length, thresholds };
}

let chart;
async function draw() {
  const organizationId = $('organization').value;
  const metric = $('metric').value;
  const days = Number($('days').value);
  const to = new Date();
  const from = new Date(Math.floor(to.getTime() / DAY) * DAY - (days - 1) * DAY);
  status('Reading the usage report…');
  document.body.dataset.state = 'drawing';
  try {
    const data = await gql(${JSON.stringify(REPORT)}, { filter: { organizationId }, from: from.toISOString(), to: to.toISOString() });
    const drawn = chartOf(data.usageReport, metric);
    chart && chart.destroy();
    chart = undefined;
    $('chart').replaceChildren();
    if (!drawn) {
      status('No license of this organization has a limit on ' + metric + '.');
    } else {
      chart = new uPlot(
        {
          title: metric + ': daily peak in percent of the limit',
          width: Math.max(600, $('chart').clientWidth),
          height: 420,
          series: drawn.series,
          scales: { y: { range: (u, min, max) => [0, Math.max(110, max + 5)] } },
          axes: [{}, { label: '% of limit', values: (u, ticks) => ticks.map((t) => t + ' %') }],
        },
        drawn.data,
        $('chart'),
      );
      status(drawn.licenses + ' license(s) over ' + days + ' days');
    }
    window.usageChart = drawn && { labels: drawn.series.slice(1).map((s) => s.label), data: drawn.data, thresholds: drawn.thresholds };
    document.body.dataset.state = 'drawn';
  } catch (error) {
    status(error.message, true);
    document.body.dataset.state = 'failed';
  }
}

$('connect').addEventListener('click', connect);
$('draw').addEventListener('click', draw);
if (token) connect();
`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Usage · AINexLayer License Manager</title>
<link rel="stylesheet" href="${ASSETS}/${LIBRARY.style}">
<style>
  body { font: 14px system-ui, sans-serif; margin: 24px; color: #111827; }
  header { display: flex; gap: 12px; align-items: center; flex-wrap: wrap; margin-bottom: 16px; }
  input, select, button { font: inherit; padding: 4px 8px; }
  #token { width: 320px; }
  #status { color: #374151; margin: 8px 0; }
  #status.failed { color: #b91c1c; }
  a { color: #2563eb; }
</style>
</head>
<body>
<h1>Usage</h1>
<header>
  <input id="token" type="password" placeholder="API token (alm_…)" autocomplete="off" aria-label="API token">
  <button id="connect">Connect</button>
  <select id="organization" aria-label="Organization"></select>
  <select id="metric" aria-label="Metric">
    <option>CONCURRENT_SESSIONS</option><option>ACTIVE_USERS</option><option>STORAGE_BYTES</option><option>API_CALLS</option>
  </select>
  <select id="days" aria-label="Days"><option value="30">30 days</option><option value="90" selected>90 days</option><option value="365">365 days</option></select>
  <button id="draw" disabled>Draw</button>
  <a href="/graphql">Playground</a>
</header>
<div id="status">Give an API token that may read the organization's licenses, and connect.</div>
<div id="chart"></div>
<script src="${ASSETS}/${LIBRARY.script}"></script>
<script>${SCRIPT}</script>
</body>
</html>`;

const assets = new Map<string, { type: string; body: Buffer }>();

function asset(name: string): { type: string; body: Buffer } | undefined {
  if (!Object.values(LIBRARY).includes(name as never)) return undefined;
  let found = assets.get(name);
  if (!found) {
    found = { type: name.endsWith('.css') ? 'text/css' : 'text/javascript', body: readFileSync(require.resolve(`uplot/dist/${name}`)) };
    assets.set(name, found);
  }
  return found;
}

/**
 * The usage chart: a page beside the playground, and uPlot served from the server's own dependencies. The page holds
 * no data: it reads the API with the token given to it, under that token's rights.
 */
export function mountUsageChart(app: express.Express): void {
  app.get(USAGE_CHART_PATH, (_req, res) => {
    res.type('html').send(PAGE);
  });
  app.get(`${ASSETS}/:name`, (req, res) => {
    const found = asset(req.params.name);
    if (!found) {
      res.status(404).type('text/plain').send('Not found');
      return;
    }
    res.setHeader('cache-control', 'public, max-age=86400');
    res.type(found.type).send(found.body);
  });
}
