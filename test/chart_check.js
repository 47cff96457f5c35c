// Run inside the page by test/chart.sh (through headless Chromium):
// measures the text boxes of every SVG and the page width, and writes
// the findings into <pre id="chart-check">.
(function(){
  var out = [], svgs = document.querySelectorAll('svg');
  var nText = 0, nMark = 0;
  function box(e){ return e.getBoundingClientRect(); }
  for(var s=0; s<svgs.length; s++){
    var t = svgs[s].querySelectorAll('text'), b = [];
    nMark += svgs[s].querySelectorAll('.mark').length;
    for(var i=0; i<t.length; i++){
      var r = box(t[i]);
      if( r.width>0 && r.height>0 ) b.push([r, t[i].textContent]);
      var sb = box(svgs[s]);
      if( r.left < sb.left-1 || r.right > sb.right+1 || r.top < sb.top-1 || r.bottom > sb.bottom+1 ){
        out.push('outside svg ' + s + ': "' + t[i].textContent + '"');
      }
    }
    nText += b.length;
    for(var i=0; i<b.length; i++){
      for(var j=i+1; j<b.length; j++){
        var p = b[i][0], q = b[j][0];
        var ox = Math.min(p.right, q.right) - Math.max(p.left, q.left);
        var oy = Math.min(p.bottom, q.bottom) - Math.max(p.top, q.top);
        if( ox>1 && oy>2 ){
          out.push('overlap in svg ' + s + ': "' + b[i][1] + '" and "' + b[j][1] + '"');
        }
      }
    }
  }
  if( document.documentElement.scrollWidth > window.innerWidth ){
    out.push('page wider than the viewport: ' + document.documentElement.scrollWidth + ' > ' + window.innerWidth);
  }
  var pre = document.createElement('pre');
  pre.id = 'chart-check';
  pre.textContent = 'CHECK svgs=' + svgs.length + ' texts=' + nText + ' marks=' + nMark + ' height=' + document.documentElement.scrollHeight + ' problems=' + out.length + '\n' + out.join('\n');
  document.body.appendChild(pre);
})();
