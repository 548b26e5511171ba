const { src, dest } = require('gulp');

// n8n reads node and credential icons from files beside the built code.
function copyIcons() {
	return src('icons/*.svg').pipe(dest('dist/icons'));
}

exports['build:icons'] = copyIcons;
