// CloudFront Function (viewer request) for the default and preview behaviours.
// Every page of the frozen site is a directory with an index.html:
//   /sculptures/x/  -> serves /sculptures/x/index.html (rewrite, no round trip)
//   /sculptures/x   -> 301 to /sculptures/x/ (one URL per page; relative links
//                      inside the page resolve against the directory)
// Paths whose last segment has a dot (/app.js, /404.html) pass through.
function querySuffix(querystring) {
  var parts = [];
  for (var key in querystring) {
    var entry = querystring[key];
    var values = entry.multiValue ? entry.multiValue : [entry];
    for (var i = 0; i < values.length; i++) {
      parts.push(values[i].value === '' ? key : key + '=' + values[i].value);
    }
  }
  return parts.length ? '?' + parts.join('&') : '';
}

function handler(event) {
  var request = event.request;
  var uri = request.uri;

  if (uri.endsWith('/')) {
    request.uri = uri + 'index.html';
    return request;
  }

  var lastSegment = uri.substring(uri.lastIndexOf('/') + 1);
  if (lastSegment.indexOf('.') === -1) {
    return {
      statusCode: 301,
      statusDescription: 'Moved Permanently',
      headers: {
        location: { value: uri + '/' + querySuffix(request.querystring) },
        'cache-control': { value: 'max-age=3600' },
      },
    };
  }

  return request;
}
