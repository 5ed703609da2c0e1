// Candle chart (TradingView lightweight-charts): timeframes from 1 s to 1 h, seeded
// from candles.get and updated live from md.trade; volume, VWAP and a moving
// average, each switched on and off with its own button.

import {
  CandlestickSeries,
  ColorType,
  CrosshairMode,
  HistogramSeries,
  type IChartApi,
  LineSeries,
  type ISeriesApi,
  type UTCTimestamp,
  createChart,
} from "lightweight-charts";
import { type Bar, INTERVALS, type Point, movingAverage, vwap } from "../candles.ts";
import { schedule } from "../emitter.ts";
import type { Market } from "../market.ts";
import { h, setText } from "./dom.ts";

const UP = "#22c38e";
const DOWN = "#f2495c";
const VWAP_COLOR = "#f5b83d";
const MA_COLOR = "#4c8dff";
const MA_BARS = 20;

type Overlay = "volume" | "vwap" | "ma";
const OVERLAYS: { key: Overlay; label: string; title: string }[] = [
  { key: "volume", label: "Vol", title: "Volume per bar" },
  { key: "vwap", label: "VWAP", title: "Volume-weighted average price of the bars shown" },
  { key: "ma", label: `MA${MA_BARS}`, title: `Moving average of the last ${MA_BARS} closes` },
];

/** The chart draws UTC; shift by the local offset so the axis reads local time. */
function chartTime(ms: number): UTCTimestamp {
  const offsetMin = new Date(ms).getTimezoneOffset();
  return Math.floor(ms / 1000 - offsetMin * 60) as UTCTimestamp;
}

export function chartView(market: Market): HTMLElement {
  const host = h("div", { class: "chart-host", testid: "chart-canvas" });
  const title = h("span", { class: "chart-title", testid: "chart-title" });
  const ohlc = h("span", { class: "chart-ohlc muted small", testid: "chart-ohlc" });
  const buttons = INTERVALS.map((iv) =>
    h(
      "button",
      {
        class: `seg${iv.ms === market.intervalMs ? " on" : ""}`,
        type: "button",
        testid: `chart-interval-${iv.label}`,
        onclick: () => {
          market.setInterval(iv.ms);
          for (const b of buttons) b.classList.toggle("on", b === btnFor(iv.ms));
        },
      },
      iv.label,
    ),
  );
  const btnFor = (ms: number) => buttons[INTERVALS.findIndex((iv) => iv.ms === ms)];
  const shown: Record<Overlay, boolean> = { volume: true, vwap: false, ma: false };
  const toggles = OVERLAYS.map((o) => {
    const b = h(
      "button",
      {
        class: `seg${shown[o.key] ? " on" : ""}`,
        type: "button",
        title: o.title,
        testid: `chart-toggle-${o.key}`,
        "aria-pressed": String(shown[o.key]),
        onclick: () => {
          shown[o.key] = !shown[o.key];
          b.classList.toggle("on", shown[o.key]);
          b.setAttribute("aria-pressed", String(shown[o.key]));
          applyOverlays();
          if (market.candles) drawIndicators(market.candles.bars, null);
        },
      },
      o.label,
    );
    return b;
  });
  const root = h(
    "section",
    { class: "panel chart", testid: "chart" },
    h(
      "header",
      { class: "panel-head" },
      title,
      ohlc,
      h("div", { class: "segs" }, ...buttons),
      h("div", { class: "segs overlays" }, ...toggles),
    ),
    host,
  );

  let chart: IChartApi | null = null;
  let candles: ISeriesApi<"Candlestick"> | null = null;
  let volume: ISeriesApi<"Histogram"> | null = null;
  let vwapLine: ISeriesApi<"Line"> | null = null;
  let maLine: ISeriesApi<"Line"> | null = null;

  const applyOverlays = () => {
    volume?.applyOptions({ visible: shown.volume });
    vwapLine?.applyOptions({ visible: shown.vwap });
    maLine?.applyOptions({ visible: shown.ma });
    root.dataset.overlays = OVERLAYS.filter((o) => shown[o.key]).map((o) => o.key).join(" ");
  };

  const ensureChart = () => {
    if (chart) return;
    chart = createChart(host, {
      autoSize: true,
      layout: {
        background: { type: ColorType.Solid, color: "transparent" },
        textColor: "#8b96a5",
        fontSize: 11,
        attributionLogo: false,
      },
      grid: { vertLines: { color: "#1a212b" }, horzLines: { color: "#1a212b" } },
      rightPriceScale: { borderColor: "#232c38" },
      timeScale: { borderColor: "#232c38", timeVisible: true, secondsVisible: true, rightOffset: 4, barSpacing: 9 },
      crosshair: { mode: CrosshairMode.Normal },
    });
    candles = chart.addSeries(CandlestickSeries, {
      upColor: UP,
      downColor: DOWN,
      borderVisible: false,
      wickUpColor: UP,
      wickDownColor: DOWN,
    });
    volume = chart.addSeries(HistogramSeries, {
      priceScaleId: "vol",
      priceFormat: { type: "volume" },
      lastValueVisible: false,
      priceLineVisible: false,
    });
    const line = { lineWidth: 1, lastValueVisible: false, priceLineVisible: false, crosshairMarkerVisible: false } as const;
    vwapLine = chart.addSeries(LineSeries, { ...line, color: VWAP_COLOR });
    maLine = chart.addSeries(LineSeries, { ...line, color: MA_COLOR });
    applyOverlays();
    chart.priceScale("vol").applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    chart.priceScale("right").applyOptions({ scaleMargins: { top: 0.08, bottom: 0.25 } });
  };

  const candleOf = (b: Bar) => ({ time: chartTime(b.t), open: b.o, high: b.h, low: b.l, close: b.c });
  const volOf = (b: Bar) => ({
    time: chartTime(b.t),
    value: b.v,
    color: b.c >= b.o ? "rgba(34,195,142,0.35)" : "rgba(242,73,92,0.35)",
  });

  const lineOf = (p: Point) => ({ time: chartTime(p.t), value: p.value });
  /** Redraws the shown indicators: all of their points after a reload, else only those at or after `from` (ms).
   * A hidden one is not computed at all; showing it redraws it whole. */
  const drawIndicators = (bars: Bar[], from: number | null) => {
    for (const [key, series, points] of [
      ["vwap", vwapLine, vwap],
      ["ma", maLine, (b: Bar[]) => movingAverage(b, MA_BARS)],
    ] as const) {
      if (!series || !shown[key]) continue;
      const values = points(bars);
      if (from === null) series.setData(values.map(lineOf));
      else for (const p of values) if (p.t >= from) series.update(lineOf(p));
    }
  };

  let priceFormatFor = "";
  const render = () => {
    const series = market.candles;
    setText(title, market.selected || "—");
    if (!series || !host.isConnected) return;
    ensureChart();
    const sym = market.selected;
    if (priceFormatFor !== sym) {
      priceFormatFor = sym;
      const tick = Number(market.symbols.get(sym)?.tick ?? "0.01");
      const precision = market.scaleOf(sym);
      candles!.applyOptions({ priceFormat: { type: "price", precision, minMove: tick } });
    }
    if (series.reset) {
      series.reset = false;
      series.takeChanged();
      candles!.setData(series.bars.map(candleOf));
      volume!.setData(series.bars.map(volOf));
      drawIndicators(series.bars, null);
    } else {
      const changed = series.takeChanged();
      for (const b of changed) {
        candles!.update(candleOf(b));
        volume!.update(volOf(b));
      }
      if (changed.length) drawIndicators(series.bars, changed[0].t);
    }
    const last = series.bars[series.bars.length - 1];
    const dp = market.scaleOf(sym);
    setText(
      ohlc,
      last
        ? `O ${last.o.toFixed(dp)}  H ${last.h.toFixed(dp)}  L ${last.l.toFixed(dp)}  C ${last.c.toFixed(dp)}  V ${last.v}`
        : "no trades yet",
    );
    root.dataset.bars = String(series.bars.length);
    root.dataset.interval = String(series.intervalMs);
  };

  market.changes.on("candles", () => schedule(render));
  market.changes.on("selected", () => schedule(render));
  schedule(render);
  return root;
}
