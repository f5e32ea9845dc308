// MathJax 3 configuration for pymdownx.arithmatex (generic mode): arithmatex wraps every formula in an
// element of class "arithmatex" using \( ... \) (inline) and \[ ... \] (display); MathJax typesets only those.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex"
  }
};
