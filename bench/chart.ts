/** A horizontal bar chart as standalone SVG: one group of bars per label, one colour per series. */

export interface BarGroup {
	label: string;
	bars: Array<{ series: string; value: number }>;
}

const COLOURS = ['#1f6feb', '#d29922', '#8b949e', '#2da44e'];
const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function barChartSvg(params: { title: string; unit: string; groups: BarGroup[]; marker?: { value: number; label: string } }): string {
	const series = [...new Set(params.groups.flatMap((group) => group.bars.map((bar) => bar.series)))];
	const barHeight = 18;
	const labelWidth = 170;
	const plotWidth = 460;
	const max = Math.max(params.marker?.value ?? 0, ...params.groups.flatMap((group) => group.bars.map((bar) => bar.value))) * 1.15;
	const scale = (value: number) => (value / max) * plotWidth;
	const parts: string[] = [];
	let y = 40;
	for (const group of params.groups) {
		parts.push(`<text x="8" y="${y + 12}" font-weight="bold">${escape(group.label)}</text>`);
		y += 18;
		for (const bar of group.bars) {
			const colour = COLOURS[series.indexOf(bar.series) % COLOURS.length];
			const width = Math.max(1, scale(bar.value));
			parts.push(`<text x="16" y="${y + 13}">${escape(bar.series)}</text>`);
			parts.push(`<rect x="${labelWidth}" y="${y}" width="${width.toFixed(1)}" height="${barHeight}" fill="${colour}"/>`);
			parts.push(`<text x="${(labelWidth + width + 4).toFixed(1)}" y="${y + 13}">${formatValue(bar.value)} ${escape(params.unit)}</text>`);
			y += barHeight + 4;
		}
		y += 10;
	}
	if (params.marker) {
		const x = labelWidth + scale(params.marker.value);
		parts.push(`<line x1="${x.toFixed(1)}" y1="34" x2="${x.toFixed(1)}" y2="${y}" stroke="#cf222e" stroke-dasharray="4 3"/>`);
		parts.push(`<text x="${(x + 4).toFixed(1)}" y="${y + 14}" fill="#cf222e">${escape(params.marker.label)}</text>`);
		y += 20;
	}
	const width = labelWidth + plotWidth + 120;
	return [
		`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 10}" font-family="sans-serif" font-size="12">`,
		`<rect width="100%" height="100%" fill="white"/>`,
		`<text x="8" y="22" font-size="15" font-weight="bold">${escape(params.title)}</text>`,
		...parts,
		'</svg>',
		'',
	].join('\n');
}

function formatValue(value: number): string {
	return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}
