"""Where the product meets bytes and libraries: the .xlsx package (lxml and zipfile), the
template (openpyxl), the .xlsm maker, safe file replacement and the Dask cluster.

The core and the workbook's pure mapping never import from here; the ways in (`api`,
`cli`, `xl`) and `pipeline` do.
"""
