package git

// LogRecordForTest renders a commit as git log prints it for Log.
var LogRecordForTest = logRecord
var ParseTreeDiffsForTest = parseTreeDiffs
